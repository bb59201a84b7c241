import { sequenceNumberOf } from "../sequence.js";
import type { ImapSession } from "../session.js";
import type { SortInput } from "../sort.js";
import type { EnvelopeAddress, SearchKey } from "../storage.js";
import type { Token } from "../parser.js";
import { KeyReader } from "./search.js";

/**
 * What SORT and THREAD (RFC 5256) order: the messages the search criteria `tokens` match
 * that this session knows (sequence numbers must exist), with their decoded subjects and
 * display names. A MODSEQ criterion enables CONDSTORE (RFC 7162 §3.1.5).
 */
export async function sortInputs(session: ImapSession, tokens: Token[]): Promise<{ inputs: SortInput[]; modseqs: number[]; usesModseq: boolean }> {
  const sel = session.selected!;
  const reader = new KeyReader(tokens, sel);
  const keys: SearchKey[] = [];
  while (!reader.done()) keys.push(reader.key());
  const usesModseq = JSON.stringify(keys).includes('"modseq"');
  if (usesModseq) session.condstore = true;
  const found = await session.storage.search(sel.mailboxId, keys.length === 1 ? keys[0]! : { key: "and", keys });
  const known = found.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
  const messages = known.length ? await session.storage.fetch(sel.mailboxId, known, { raw: false }) : [];
  const decode = (v: string | null) => (v === null ? null : session.storage.decodeHeader(v));
  const decodeNames = (list: EnvelopeAddress[] | null) => list?.map((a) => ({ ...a, name: decode(a.name)?.trim() || null })) ?? null;
  const inputs = messages.map((m) => ({
    uid: m.uid,
    seq: sequenceNumberOf(sel.uids, m.uid),
    internalDate: m.internalDate,
    size: m.size,
    date: m.envelope.date,
    subject: decode(m.envelope.subject),
    from: decodeNames(m.envelope.from),
    to: decodeNames(m.envelope.to),
    cc: m.envelope.cc,
  }));
  return { inputs, modseqs: messages.map((m) => m.modseq), usesModseq };
}
