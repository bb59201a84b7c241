import type { Token } from "../parser.js";
import { compactSet } from "../sequence.js";
import type { CommandHandler } from "../session.js";
import { isRefusal, type AppendMessage } from "../storage.js";
import { ArgumentError, dateTime, flagList, mailboxName } from "./arguments.js";

/**
 * RFC 3501 §6.3.11 APPEND (LITERAL+ by the framer) and RFC 3502 MULTIAPPEND: one or more
 * `[flags] [date-time] literal` groups, stored all together or not at all; answers APPENDUID
 * with the UID set (RFC 4315 §3); UTF8 (…) of RFC 6855; APPENDLIMIT (RFC 7889); a message
 * as a literal8 `~{n}` (RFC 3516 §4.2 BINARY).
 */
export const append: CommandHandler = async ({ session, args }) => {
  if (args.length < 2) return { status: "BAD", text: "APPEND takes a mailbox, optional flags and date, and a message literal" };
  const box = mailboxName(session, args[0]);
  const messages: (AppendMessage & { empty: boolean })[] = [];
  let i = 1;
  while (i < args.length) {
    let flags: string[] = [];
    let date: Date | undefined;
    if (args[i]?.type === "list") flags = flagList(args[i++]);
    const maybeDate = args[i];
    if (maybeDate?.type === "string" && !maybeDate.literal) {
      date = dateTime(maybeDate.value);
      if (!date) throw new ArgumentError(`invalid date-time ${maybeDate.value}`);
      i++;
    }
    let message: Token | undefined = args[i];
    if (message?.type === "atom" && message.value.toUpperCase() === "UTF8" && args[i + 1]?.type === "list") {
      message = (args[i + 1] as { items: Token[] }).items[0];
      i++;
    }
    if (!message || message.type !== "string") return { status: "BAD", text: "APPEND needs each message as a literal, after its optional flags and date" };
    i++;
    messages.push({ raw: message.bytes, flags, internalDate: date, empty: message.bytes.length === 0, ...(message.binary ? { binary: true } : {}) });
  }
  // RFC 3502 §6.3.11: a zero-length literal cancels the whole command; nothing is stored.
  if (messages.some((m) => m.empty)) return { status: "NO", text: messages.length > 1 ? "a message is empty: none was appended" : "the message is empty" };
  // RFC 7889 §4: a message over APPENDLIMIT is refused (a larger literal never gets here:
  // the listener's framer refuses it with NO [TOOBIG]); the command stores nothing.
  const limit = session.opts.appendLimit;
  if (limit !== undefined && messages.some((m) => m.raw.length > limit)) return { status: "NO", code: "TOOBIG", text: `a message is larger than the APPENDLIMIT of ${limit} octets` };
  const result = await session.storage.append(session.user!, box, messages.map(({ empty: _, ...m }) => m));
  // The appending session sees its own messages (EXISTS) before the tagged OK, without
  // waiting for the change notification (RFC 3501 §6.3.11).
  if (session.selected?.name === box) session.selected.dirty = true;
  if (isRefusal(result)) {
    if (result.refused === "nonexistent") return { status: "NO", code: "TRYCREATE", text: result.text };
    if (result.refused === "over-quota") return { status: "NO", code: "OVERQUOTA", text: result.text };
    return { status: "NO", text: result.text };
  }
  return { status: "OK", code: `APPENDUID ${result.uidValidity} ${compactSet(result.uids)}`, text: "APPEND completed" };
};
