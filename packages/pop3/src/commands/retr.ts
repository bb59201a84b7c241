/** RFC 1939 §5 RETR msg: the whole message, byte-stuffed, streamed from the store. */
import { listMessages, lookUpMessage, type CommandHandler } from "../context.js";
import { err, okStreamed } from "../response.js";
import { ResponseCode, withCode } from "../response-codes.js";

export const retr: CommandHandler = {
  name: "RETR",
  validIn: ["TRANSACTION"],
  async run(ctx, args) {
    if (args.length !== 1) return err("RETR needs one argument: the message number");
    await listMessages(ctx);
    const found = lookUpMessage(ctx, args[0]);
    if ("error" in found) return found.error;
    // Streamed: a 50 MB message held whole (read, split, stuffed, joined) cost ~8x its size.
    const body = await ctx.maildrop!.stream(found.message);
    if (!body) return err(withCode(ResponseCode.sysPerm, `message ${found.n} is no longer available`));
    return okStreamed(`${found.message.size} octets`, body);
  },
};
