import type { CommandHandler } from "../command.js";
import { noop } from "./noop.js";

/**
 * RFC 3501 §6.4.1 CHECK: a checkpoint, which here is NOOP (every change is committed when its
 * command completes). RFC 9051 Appendix E removed CHECK from IMAP4rev2, so
 * a session that enabled IMAP4rev2 gets BAD, as for any command the protocol does not have.
 */
export const check: CommandHandler = async (ctx) => {
  if (ctx.session.rev2) return { status: "BAD", text: "IMAP4rev2 has no CHECK command (RFC 9051 removed it); use NOOP" };
  return noop(ctx);
};
