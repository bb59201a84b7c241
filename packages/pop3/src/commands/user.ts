/** RFC 1939 §7 USER name: the first half of a USER/PASS login. */
import { loginAllowed, type CommandHandler } from "../context.js";
import { PLAINTEXT_REFUSED } from "../login.js";
import { err, ok } from "../response.js";

export const user: CommandHandler = {
  name: "USER",
  validIn: ["AUTHORIZATION"],
  run(ctx, args) {
    if (!loginAllowed(ctx)) return err(PLAINTEXT_REFUSED);
    if (args.length !== 1) return err("USER needs one argument: the e-mail address");
    ctx.user = args[0];
    // RFC 1939 §7: the reply must not tell whether the mailbox exists.
    return ok("send PASS");
  },
};
