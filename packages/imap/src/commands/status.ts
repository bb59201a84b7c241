import { atom, type ImapValue } from "../encoder.js";
import type { Token } from "../parser.js";
import type { CommandHandler } from "../command.js";
import { isRefusal, type StatusInfo } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { ArgumentError, mailboxArg } from "../syntax/arguments.js";
import { nameValue } from "./list.js";
import { mailboxObjectId } from "../objectid.js";

const ITEMS = ["MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "DELETED", "DELETED-STORAGE", "APPENDLIMIT", "MAILBOXID"];

/** RFC 3501 §6.3.10, with HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438), DELETED (RFC 9051, RFC 9208 §4.2), DELETED-STORAGE (RFC 9208 §4.2: KiB an EXPUNGE would free) and APPENDLIMIT (RFC 7889). */
export const status: CommandHandler = async ({ session, args }) => {
  if (args.length !== 2) return { status: "BAD", text: "STATUS takes a mailbox and a list of items" };
  const name = mailboxName(session, mailboxArg(args[0]));
  const items = statusItems(args[1], session.rev2);
  const info = await session.storage.status(session.user!, name);
  if (isRefusal(info)) return { status: "NO", code: "NONEXISTENT", text: info.text };
  await session.send([atom("STATUS"), nameValue(session, name), statusValues(items, info, session.opts.appendLimit)]);
  return { status: "OK", text: "STATUS completed" };
};

/** `rev2`: RFC 9051 §6.3.11 has no RECENT status item (Appendix E: \Recent is gone). */
export function statusItems(t: Token | undefined, rev2 = false): string[] {
  if (!t || t.type !== "list" || t.items.length === 0) throw new ArgumentError("expected a list of status items");
  return t.items.map((i) => {
    const v = i.type === "atom" ? i.value.toUpperCase() : "";
    if (rev2 && v === "RECENT") throw new ArgumentError("IMAP4rev2 has no RECENT status item (RFC 9051 removed \\Recent)");
    if (!ITEMS.includes(v)) throw new ArgumentError(`unknown status item ${i.type === "atom" ? i.value : "(not an atom)"}`);
    return v;
  });
}

/** `appendLimit`: RFC 7889 §3, the same for every mailbox; NIL when there is none. */
export function statusValues(items: string[], s: StatusInfo, appendLimit: number | undefined): ImapValue[] {
  const value: Record<string, ImapValue> = {
    MESSAGES: s.messages,
    RECENT: s.recent,
    UIDNEXT: s.uidNext,
    UIDVALIDITY: s.uidValidity,
    UNSEEN: s.unseen,
    HIGHESTMODSEQ: s.highestModseq,
    SIZE: s.size,
    DELETED: s.deleted,
    "DELETED-STORAGE": Math.ceil(s.deletedSize / 1024),
    APPENDLIMIT: appendLimit ?? null,
    // RFC 8474 §4.2: MAILBOXID (objectid)
    MAILBOXID: s.mailboxId === undefined ? null : [atom(mailboxObjectId(s.mailboxId))],
  };
  return items.flatMap((i) => [atom(i), value[i] ?? null]);
}
