import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";

/** RFC 2971 */
export const id: CommandHandler = async ({ session, args }) => {
  if (args.length !== 1) return { status: "BAD", text: "ID takes one list or NIL" };
  await session.send([atom("ID"), ["name", "Correo", "vendor", "Correo"]]);
  return { status: "OK", text: "ID completed" };
};
