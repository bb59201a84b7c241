/** RFC 1939 §7 PASS string: the password for the name of the last USER. */
import type { CommandHandler } from "../context.js";
import { login } from "../login.js";
import { err } from "../response.js";

export const pass: CommandHandler = {
  name: "PASS",
  validIn: ["AUTHORIZATION"],
  async run(ctx, args) {
    const user = ctx.user;
    if (user === undefined) return err("USER first");
    // The parser passes the whole remainder as one argument (RFC 1939 §7: spaces may be part of it).
    const password = args[0];
    if (password === undefined || password === "") return err("PASS needs one argument: the password");
    // Whatever happens next, a new PASS needs a new USER (RFC 1939 §7 example).
    ctx.user = undefined;
    return login(ctx, user, password);
  },
};
