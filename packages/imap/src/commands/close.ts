import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.4.2 CLOSE (expunges silently unless read-only) and RFC 3691 UNSELECT. */
export const close: CommandHandler = async ({ session, name }) => {
  const sel = session.selected!;
  if (name === "CLOSE" && !sel.readOnly) await session.storage.expunge(sel.mailboxId);
  session.unselect();
  return { status: "OK", text: `${name} completed` };
};
