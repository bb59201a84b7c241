import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";

/** RFC 2342: one personal namespace, no prefix, "/" as the delimiter; no shared or other users'. */
export const namespace: CommandHandler = async ({ session }) => {
  await session.send([atom("NAMESPACE"), [["", "/"]], null, null]);
  return { status: "OK", text: "NAMESPACE completed" };
};
