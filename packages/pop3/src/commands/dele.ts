/** RFC 1939 §5 DELE msg: marks the message; it is removed only in the UPDATE state (§6). */
import { listMessages, messageNumber, type CommandHandler } from "../context.js";
import { err, ok } from "../response.js";

export const dele: CommandHandler = {
  name: "DELE",
  validIn: ["TRANSACTION"],
  async run(ctx, args) {
    if (args.length !== 1) return err("DELE needs one argument: the message number");
    await listMessages(ctx);
    const n = messageNumber(ctx, args[0]);
    if (n === undefined) return err("no such message");
    if (ctx.deleted.has(n)) return err(`message ${n} already deleted`);
    ctx.deleted.add(n);
    return ok(`message ${n} deleted`);
  },
};
