import { statusLine } from "../encoder.js";
import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.2.1: the OK goes out in clear, then the handshake; capabilities are asked again after. */
export const starttls: CommandHandler = async ({ session, tag, args }) => {
  if (args.length) return { status: "BAD", text: "STARTTLS takes no arguments" };
  if (session.secure || !session.opts.io.startTls) return { status: "BAD", text: "TLS is already active or not available" };
  await session.write(statusLine(tag, { status: "OK", text: "Begin TLS negotiation now" }));
  await session.opts.io.startTls();
  session.secure = true;
  return { status: "OK", text: "TLS active", written: true };
};
