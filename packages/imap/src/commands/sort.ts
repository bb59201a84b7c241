import { atom } from "../encoder.js";
import { sequenceNumberOf } from "../sequence.js";
import type { CommandHandler } from "../session.js";
import { SORT_KEYS, sortMessages, type SortCriterion, type SortKeyName } from "../sort.js";
import type { EnvelopeAddress, SearchKey } from "../storage.js";
import { astring } from "./arguments.js";
import { KeyReader } from "./search.js";

/** RFC 5256 §3 SORT / UID SORT (with RFC 5957's DISPLAYFROM, DISPLAYTO): sort-criteria, charset (UTF-8, US-ASCII), search criteria as SEARCH. */
export const sort: CommandHandler = async ({ session, args, uid }) => {
  const sel = session.selected!;
  const [list, charsetToken, ...rest] = args;
  if (list?.type !== "list" || list.items.length === 0) return { status: "BAD", text: "SORT needs a parenthesized list of sort criteria" };
  const criteria: SortCriterion[] = [];
  for (let i = 0; i < list.items.length; i++) {
    const t = list.items[i]!;
    if (t.type !== "atom") return { status: "BAD", text: "SORT: a sort criterion must be an atom" };
    const name = t.value.toUpperCase();
    if (name === "REVERSE") {
      const next = list.items[++i];
      const key = next?.type === "atom" ? next.value.toUpperCase() : "";
      if (!SORT_KEYS.has(key)) return { status: "BAD", text: "SORT: REVERSE must be followed by a sort key" };
      criteria.push({ key: key as SortKeyName, reverse: true });
    } else if (SORT_KEYS.has(name)) criteria.push({ key: name as SortKeyName, reverse: false });
    else return { status: "BAD", text: `SORT: unknown sort key ${t.value}` };
  }
  const charset = astring(charsetToken, "the SORT charset").toUpperCase();
  if (rest.length === 0) return { status: "BAD", text: "SORT needs search criteria" };
  if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
  const reader = new KeyReader(rest, sel);
  const keys: SearchKey[] = [];
  while (!reader.done()) keys.push(reader.key());
  // RFC 7162 §3.1.5: a MODSEQ criterion enables CONDSTORE and adds the highest mod-sequence to the answer.
  const usesModseq = JSON.stringify(keys).includes('"modseq"');
  if (usesModseq) session.condstore = true;
  const found = await session.storage.search(sel.mailboxId, keys.length === 1 ? keys[0]! : { key: "and", keys });
  // Only messages this session knows about (sequence numbers must exist).
  const known = found.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
  const messages = known.length ? await session.storage.fetch(sel.mailboxId, known, { raw: false }) : [];
  const decode = (v: string | null) => (v === null ? null : session.storage.decodeHeader(v));
  const decodeNames = (list: EnvelopeAddress[] | null) => list?.map((a) => ({ ...a, name: decode(a.name)?.trim() || null })) ?? null;
  const sorted = sortMessages(
    messages.map((m) => ({
      uid: m.uid,
      seq: sequenceNumberOf(sel.uids, m.uid),
      internalDate: m.internalDate,
      size: m.size,
      date: m.envelope.date,
      subject: decode(m.envelope.subject),
      from: decodeNames(m.envelope.from),
      to: decodeNames(m.envelope.to),
      cc: m.envelope.cc,
    })),
    criteria,
  );
  const out = [atom("SORT"), ...sorted.map((m) => (uid ? m.uid : m.seq))];
  if (usesModseq && messages.length) out.push([atom("MODSEQ"), Math.max(...messages.map((m) => m.modseq))] as never);
  await session.send(out);
  return { status: "OK", text: `${uid ? "UID " : ""}SORT completed` };
};
