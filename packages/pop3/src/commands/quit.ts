/**
 * RFC 1939 §6 QUIT: in AUTHORIZATION it only closes; in TRANSACTION the session enters
 * UPDATE and removes the messages marked as deleted, all or none, before it signs off.
 */
import { messages, releaseMaildrop, totals, type CommandHandler } from "../context.js";
import { err, ok } from "../response.js";
import { ResponseCode, withCode } from "../response-codes.js";

export const quit: CommandHandler = {
  name: "QUIT",
  validIn: ["AUTHORIZATION", "TRANSACTION"],
  async run(ctx) {
    ctx.closed = true;
    const hostname = ctx.options.hostname;
    if (ctx.state === "AUTHORIZATION") return { ...ok(`${hostname} Correo POP3 signing off`), close: true };
    ctx.state = "UPDATE";
    // A message marked by DELE was listed first, so the listing holds every doomed one.
    const doomed = messages(ctx).filter((_, i) => ctx.deleted.has(i + 1));
    const left = totals(ctx).count;
    try {
      if (doomed.length) await ctx.maildrop!.expunge(doomed);
    } catch (error) {
      ctx.options.observer?.error?.(error, "QUIT");
      await releaseMaildrop(ctx);
      return { ...err(withCode(ResponseCode.sysTemp, "some deleted messages not removed")), close: true };
    }
    await releaseMaildrop(ctx);
    return { ...ok(`${hostname} Correo POP3 signing off (${left} messages left)`), close: true };
  },
};
