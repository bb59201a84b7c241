import { sequenceNumberOf } from "../sequence.js";
import type { CommandHandler } from "../session.js";
import { orderedSubjectThreadList, threadOrderedSubject } from "../sort.js";
import type { SearchKey } from "../storage.js";
import { astring } from "./arguments.js";
import { KeyReader } from "./search.js";

/** RFC 5256 §3 THREAD / UID THREAD with the ORDEREDSUBJECT algorithm; charsets UTF-8, US-ASCII. */
export const thread: CommandHandler = async ({ session, args, uid }) => {
  const sel = session.selected!;
  const [algorithm, charsetToken, ...rest] = args;
  if (algorithm?.type !== "atom") return { status: "BAD", text: "THREAD needs a threading algorithm" };
  if (algorithm.value.toUpperCase() !== "ORDEREDSUBJECT") return { status: "BAD", text: `THREAD: unsupported algorithm ${algorithm.value}` };
  const charset = astring(charsetToken, "the THREAD charset").toUpperCase();
  if (rest.length === 0) return { status: "BAD", text: "THREAD needs search criteria" };
  if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
  const reader = new KeyReader(rest, sel);
  const keys: SearchKey[] = [];
  while (!reader.done()) keys.push(reader.key());
  if (JSON.stringify(keys).includes('"modseq"')) session.condstore = true;
  const found = await session.storage.search(sel.mailboxId, keys.length === 1 ? keys[0]! : { key: "and", keys });
  const known = found.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
  const messages = known.length ? await session.storage.fetch(sel.mailboxId, known, { raw: false }) : [];
  const threads = threadOrderedSubject(
    messages.map((m) => ({
      uid: m.uid,
      seq: sequenceNumberOf(sel.uids, m.uid),
      internalDate: m.internalDate,
      size: m.size,
      date: m.envelope.date,
      subject: m.envelope.subject === null ? null : session.storage.decodeHeader(m.envelope.subject),
      from: null,
      to: null,
      cc: null,
    })),
  );
  const list = orderedSubjectThreadList(threads.map((t) => t.map((m) => (uid ? m.uid : m.seq))));
  await session.write(Buffer.from(`* THREAD${list ? ` ${list}` : ""}\r\n`));
  return { status: "OK", text: `${uid ? "UID " : ""}THREAD completed` };
};
