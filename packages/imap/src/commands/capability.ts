import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.1.1 */
export const capability: CommandHandler = async ({ session }) => {
  await session.send([atom("CAPABILITY"), ...session.capabilities().map(atom)]);
  return { status: "OK", text: "CAPABILITY completed" };
};
