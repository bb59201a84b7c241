import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.1.2 NOOP and §6.4.1 CHECK: a chance to report changes (the session does, always). */
export const noop: CommandHandler = async ({ session, name }) => {
  if (session.selected) await session.reportChanges(true, true);
  return { status: "OK", text: `${name} completed` };
};
