/** RFC 2595 §4 STLS: the +OK goes out in the clear; the listener then starts TLS. */
import type { CommandHandler } from "../context.js";
import { err, ok } from "../response.js";

export const stls: CommandHandler = {
  name: "STLS",
  validIn: ["AUTHORIZATION"],
  run(ctx, args) {
    if (args.length !== 0) return err("STLS takes no argument");
    if (ctx.tls) return err("TLS is already active");
    if (!(ctx.options.security?.stlsAvailable ?? false)) return err("STLS is not available");
    return { ...ok("begin TLS negotiation"), startTls: true };
  },
};
