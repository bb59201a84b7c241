import { atom, type ImapValue } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { isRefusal, type StatusInfo } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { parseStatus } from "../syntax/status.js";
import { nameValue } from "./list.js";
import { mailboxObjectId } from "../objectid.js";

/** RFC 3501 §6.3.10, with HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438), DELETED (RFC 9051, RFC 9208 §4.2), DELETED-STORAGE (RFC 9208 §4.2: KiB an EXPUNGE would free) and APPENDLIMIT (RFC 7889). */
export const status: CommandHandler = async ({ session, args }) => {
  const request = parseStatus(args, { rev2: session.rev2 });
  const name = mailboxName(session, request.mailbox);
  const items = request.items;
  const info = await session.storage.status(session.user!, name);
  if (isRefusal(info)) return { status: "NO", code: "NONEXISTENT", text: info.text };
  await session.send([atom("STATUS"), nameValue(session, name), statusValues(items, info, session.opts.appendLimit)]);
  return { status: "OK", text: "STATUS completed" };
};

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
