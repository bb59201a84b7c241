import type { CommandHandler } from "../command.js";
import { parseCancelupdate } from "../syntax/cancelupdate.js";

/** RFC 5267 §4.3.5 CANCELUPDATE: ends the contexts the given correlators (tags) name; no more ADDTO/REMOVEFROM for them. */
export const cancelupdate: CommandHandler = async ({ session, args }) => {
  const tags = parseCancelupdate(args);
  const sel = session.selected!;
  const unknown = tags.filter((t) => !sel.contexts.has(t));
  if (unknown.length) return { status: "BAD", text: `CANCELUPDATE: no context is kept for ${unknown.map((t) => JSON.stringify(t)).join(", ")}` };
  for (const t of tags) sel.contexts.delete(t);
  return { status: "OK", text: "CANCELUPDATE completed" };
};
