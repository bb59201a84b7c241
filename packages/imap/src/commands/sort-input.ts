import { sequenceNumberOf } from "../sequence.js";
import type { CommandSession } from "../command.js";
import type { ThreadInput } from "../thread.js";
import type { EnvelopeAddress, SearchKey } from "../storage.js";
import type { SearchSyntax } from "../syntax/search.js";
import { searchKeyOf } from "./search.js";

/** RFC 5322 §3.6.4: the (unfolded) References field of a raw message's header; null when it has none. */
export function referencesHeader(raw: Buffer): string | null {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const header = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n(?=[ \t])/g, "");
  const m = /^references[ \t]*:(.*)$/im.exec(header);
  return m ? m[1]!.trim() : null;
}

/**
 * What SORT and THREAD (RFC 5256) order: the messages the search `keys` match
 * that this session knows (sequence numbers must exist), with their decoded subjects and
 * display names, and what THREAD=REFERENCES (§2.2) reads besides: Message-ID, In-Reply-To
 * and, with `withReferences`, the References header (from the raw message).
 */
export async function threadInputs(
  session: CommandSession,
  keys: readonly SearchSyntax[],
  withReferences: boolean,
): Promise<{ inputs: ThreadInput[]; modseqs: number[]; usesModseq: boolean }> {
  const { criteria, usesModseq } = criteriaOf(session, keys);
  const { inputs, modseqs } = await inputsFor(session, criteria, withReferences);
  return { inputs, modseqs, usesModseq };
}

/** The search criteria of SORT / THREAD (as SEARCH reads them); a MODSEQ criterion enables CONDSTORE. */
export function criteriaOf(session: CommandSession, keys: readonly SearchSyntax[]): { criteria: SearchKey; usesModseq: boolean } {
  const criteria = searchKeyOf(keys, session.selected!);
  const usesModseq = JSON.stringify(criteria).includes('"modseq"');
  if (usesModseq) session.condstore = true;
  return { criteria, usesModseq };
}

/** The messages `criteria` match that this session knows, as the sort and thread functions take them. */
export async function inputsFor(session: CommandSession, criteria: SearchKey, withReferences: boolean): Promise<{ inputs: ThreadInput[]; modseqs: number[] }> {
  const sel = session.selected!;
  const found = await session.storage.search(sel.mailboxId, criteria);
  const known = found.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
  const messages = known.length ? await session.storage.fetch(sel.mailboxId, known, { raw: withReferences }) : [];
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
    messageId: m.envelope.messageId,
    inReplyTo: m.envelope.inReplyTo,
    references: withReferences && m.raw ? referencesHeader(m.raw) : null,
  }));
  return { inputs, modseqs: messages.map((m) => m.modseq) };
}
