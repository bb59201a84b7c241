/** RFC 1939 §7 TOP msg n: the header, the blank line, and the first n lines of the body. */
import { listMessages, lookUpMessage, type CommandHandler } from "../context.js";
import { topLines } from "../message-text.js";
import { err, ok } from "../response.js";
import { ResponseCode, withCode } from "../response-codes.js";
import { parseLineCount } from "../syntax/arguments.js";

export const top: CommandHandler = {
  name: "TOP",
  validIn: ["TRANSACTION"],
  async run(ctx, args) {
    if (args.length !== 2) return err("TOP needs two arguments: the message number and a number of lines");
    await listMessages(ctx);
    const found = lookUpMessage(ctx, args[0]);
    if ("error" in found) return found.error;
    const lines = parseLineCount(args[1]);
    if (lines === undefined) return err("invalid number of lines");
    const content = await ctx.maildrop!.content(found.message);
    if (!content) return err(withCode(ResponseCode.sysPerm, `message ${found.n} is no longer available`));
    return ok("top of message follows", topLines(content, lines));
  },
};
