import type { CommandHandler } from "../session.js";
import { isRefusal } from "../storage.js";
import { ArgumentError, dateTime, flagList, mailboxName } from "./arguments.js";

/** RFC 3501 §6.3.11 APPEND (LITERAL+ by the framer), answering APPENDUID (RFC 4315 §3); UTF8 (…) of RFC 6855. */
export const append: CommandHandler = async ({ session, args }) => {
  if (args.length < 2) return { status: "BAD", text: "APPEND takes a mailbox, optional flags and date, and a message literal" };
  const box = mailboxName(session, args[0]);
  let i = 1;
  let flags: string[] = [];
  let date: Date | undefined;
  if (args[i]?.type === "list") flags = flagList(args[i++]);
  const maybeDate = args[i];
  if (maybeDate?.type === "string" && !maybeDate.literal) {
    date = dateTime(maybeDate.value);
    if (!date) throw new ArgumentError(`invalid date-time ${maybeDate.value}`);
    i++;
  }
  let message = args[i];
  if (message?.type === "atom" && message.value.toUpperCase() === "UTF8" && args[i + 1]?.type === "list") {
    message = (args[i + 1] as { items: typeof args }).items[0];
    i++;
  }
  if (!message || message.type !== "string" || i !== args.length - 1) return { status: "BAD", text: "APPEND needs the message as a literal, last" };
  if (message.bytes.length === 0) return { status: "NO", text: "the message is empty" };
  const result = await session.storage.append(session.user!, box, message.bytes, flags, date);
  // The appending session sees its own message (EXISTS) before the tagged OK, without
  // waiting for the change notification (RFC 3501 §6.3.11).
  if (session.selected?.name === box) session.selected.dirty = true;
  if (isRefusal(result)) {
    if (result.refused === "nonexistent") return { status: "NO", code: "TRYCREATE", text: result.text };
    if (result.refused === "over-quota") return { status: "NO", code: "OVERQUOTA", text: result.text };
    return { status: "NO", text: result.text };
  }
  return { status: "OK", code: `APPENDUID ${result.uidValidity} ${result.uid}`, text: "APPEND completed" };
};
