import { atom, type ImapValue } from "../encoder.js";
import { compactSet, resolveSequenceNumbers, sequenceNumberOf, uidRanges } from "../sequence.js";
import type { CommandHandler, SelectedMailbox } from "../command.js";
import type { SearchKey } from "../storage.js";
import { parseReturnOptions, parseSearchCriteria, type ReturnOption, type ReturnRequest, type SearchSyntax } from "../syntax/search.js";
import { resultToSave, savedUids, type SavedResult } from "../searchres.js";

/**
 * The `* ESEARCH` response items after the correlator (RFC 4731 §3.1): MIN, MAX, ALL and COUNT
 * as asked; MIN, MAX and ALL are left out when nothing matched, COUNT 0 is not. `numbers`
 * ascending (for ESORT, RFC 5267 §3: in sort order, MIN and MAX still the lowest and highest);
 * `modseqOf` gives RFC 7162 §3.1.5's MODSEQ: the highest mod-sequence of the
 * messages the answer returns (only MIN/MAX: of those; ALL or COUNT: of all matches).
 * `partial` (RFC 5267 §4.4): the numbers at those positions (1-based), NIL when there are none.
 */
export function esearchItems(
  options: ReadonlySet<ReturnOption>,
  numbers: readonly number[],
  modseqOf?: (index: number) => number,
  partial?: readonly [number, number],
): ImapValue[] {
  const out: ImapValue[] = [];
  let minAt = 0;
  let maxAt = 0;
  numbers.forEach((n, i) => {
    if (n < numbers[minAt]!) minAt = i;
    if (n > numbers[maxAt]!) maxAt = i;
  });
  if (numbers.length) {
    if (options.has("MIN")) out.push(atom("MIN"), numbers[minAt]!);
    if (options.has("MAX")) out.push(atom("MAX"), numbers[maxAt]!);
    if (options.has("ALL")) out.push(atom("ALL"), atom(compactSet(numbers)));
  }
  if (options.has("COUNT")) out.push(atom("COUNT"), numbers.length);
  if (partial) {
    const part = numbers.slice(partial[0] - 1, partial[1]);
    out.push(atom("PARTIAL"), [atom(`${partial[0]}:${partial[1]}`), part.length ? atom(compactSet(part)) : null]);
  }
  if (modseqOf && numbers.length) {
    let indexes: number[];
    if (options.has("ALL") || options.has("COUNT")) indexes = numbers.map((_, i) => i);
    else {
      indexes = [];
      if (options.has("MIN")) indexes.push(minAt);
      if (options.has("MAX")) indexes.push(maxAt);
      if (partial) for (let i = partial[0] - 1; i < Math.min(partial[1], numbers.length); i++) indexes.push(i);
    }
    if (indexes.length) out.push(atom("MODSEQ"), Math.max(...indexes.map(modseqOf)));
  }
  return out;
}

/**
 * RFC 3501 §6.4.4 SEARCH / UID SEARCH with CHARSET (US-ASCII, UTF-8), RETURN (RFC 4731 ESEARCH;
 * RFC 5267 PARTIAL and UPDATE) and MODSEQ (RFC 7162 §3.1.5).
 */
export const search: CommandHandler = async ({ session, args, uid, tag }) => {
  const sel = session.selected!;
  // RFC 9051 §6.4.4: IMAP4rev2 answers a SEARCH without RETURN as RETURN (ALL), with ESEARCH.
  const returning: ReturnRequest | undefined = parseReturnOptions(args) ?? (session.rev2 ? { options: new Set<ReturnOption>(["ALL"]), update: false, save: false, rest: args } : undefined);
  // RFC 5182 §2.1: a SEARCH that SAVEs and fails leaves `$` empty; `$` in its own criteria is the previous one (§2.2).
  const previous = { saved: sel.saved, uids: sel.uids };
  if (returning?.save) sel.saved = [];
  const criteria = searchKeyOf(parseSearchCriteria(returning ? returning.rest : args, { rev2: session.rev2 }), sel, previous);
  const usesModseq = JSON.stringify(criteria).includes('"modseq"');
  if (usesModseq) await session.enableCondstore();
  const found = await session.storage.search(sel.mailboxId, criteria);
  // Only messages this session knows about (sequence numbers must exist).
  const known = found.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
  const numbers = uid ? known : known.map((u) => sequenceNumberOf(sel.uids, u));
  if (returning) {
    const order = numbers.map((n, i) => [n, known[i]!] as const).sort((a, b) => a[0] - b[0]);
    let modseqOf: ((i: number) => number) | undefined;
    if (usesModseq && known.length) {
      const flags = await session.storage.fetchFlags(sel.mailboxId, known);
      const byUid = new Map(flags.map((f) => [f.uid, f.modseq]));
      modseqOf = (i) => byUid.get(order[i]![1]) ?? 0;
    }
    const items = esearchItems(returning.options, order.map((o) => o[0]), modseqOf, returning.partial);
    if (returning.save) sel.saved = resultToSave([...known].sort((a, b) => a - b), returning.options);
    // RFC 5182 §2.4: SAVE alone answers no ESEARCH.
    const saveOnly = returning.save && returning.options.size === 0 && !returning.partial && !returning.update;
    if (!saveOnly) await session.send([atom("ESEARCH"), [atom("TAG"), tag], ...(uid ? [atom("UID")] : []), ...items]);
    // RFC 5267 §4.3: UPDATE keeps the result; the session reports its changes from now on.
    if (returning.update) sel.contexts.set(tag, { tag, uid, criteria, result: [...known].sort((a, b) => a - b) });
    return { status: "OK", text: `${uid ? "UID " : ""}SEARCH completed` };
  }
  const out = [atom("SEARCH"), ...numbers];
  if (usesModseq && known.length) {
    const flags = await session.storage.fetchFlags(sel.mailboxId, known);
    out.push([atom("MODSEQ"), Math.max(...flags.map((f) => f.modseq))] as never);
  }
  await session.send(out);
  return { status: "OK", text: `${uid ? "UID " : ""}SEARCH completed` };
};

/**
 * The search keys as the storage takes them (SearchKey), resolved against the selected
 * mailbox now: message numbers and RECENT to its UIDs, OLDER / YOUNGER to instants.
 * `saved`: what `$` names while these keys are read (RFC 5182 §2.2, the previous result).
 */
export function searchKeyOf(keys: readonly SearchSyntax[], sel: SelectedMailbox, saved: SavedResult = sel): SearchKey {
  const now = Date.now();
  const resolved = keys.map((k) => resolve(k, sel, saved, now));
  return resolved.length === 1 ? resolved[0]! : { key: "and", keys: resolved };
}

function resolve(k: SearchSyntax, sel: SelectedMailbox, saved: SavedResult, now: number): SearchKey {
  switch (k.key) {
    // RFC 3501 §6.4.4: \Recent is this session's (see SelectedMailbox.recent), so these
    // keys become the UIDs recent here; NEW is RECENT UNSEEN, OLD is NOT RECENT.
    case "recent":
      return recentKey(sel);
    case "new":
      return { key: "and", keys: [recentKey(sel), { key: "flag", flag: "\\Seen", set: false }] };
    case "old":
      return { key: "not", inner: recentKey(sel) };
    case "saved":
      return { key: "uid", ranges: savedUids(saved).map((u) => [u, u]) };
    case "sequence":
      return { key: "uid", ranges: resolveSequenceNumbers(k.set, sel.uids).map((u) => [u, u]) };
    case "uids":
      return { key: "uid", ranges: uidRanges(k.set, sel.uids[sel.uids.length - 1] ?? 0) };
    case "within":
      return { key: "instant", op: k.op, at: now - k.seconds * 1000 };
    case "not":
      return { key: "not", inner: resolve(k.inner, sel, saved, now) };
    case "or":
      return { key: "or", left: resolve(k.left, sel, saved, now), right: resolve(k.right, sel, saved, now) };
    case "and":
      return { key: "and", keys: k.keys.map((inner) => resolve(inner, sel, saved, now)) };
    default:
      return k;
  }
}

/** The UIDs \Recent in this session; consecutive ones (the usual case: everything since the last SELECT) make one range. */
function recentKey(sel: SelectedMailbox): SearchKey {
  const ranges: [number, number][] = [];
  for (const u of sel.uids) {
    if (!sel.recent.has(u)) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === u - 1) last[1] = u;
    else ranges.push([u, u]);
  }
  return ranges.length ? { key: "uid", ranges } : { key: "none" };
}
