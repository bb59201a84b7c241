import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { parseId } from "../syntax/id.js";

/** RFC 2971 */
export const id: CommandHandler = async ({ session, args }) => {
  parseId(args);
  await session.send([atom("ID"), ["name", "Correo", "vendor", "Correo"]]);
  return { status: "OK", text: "ID completed" };
};
