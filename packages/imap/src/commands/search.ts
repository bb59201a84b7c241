import { atom, type ImapValue } from "../encoder.js";
import { textOf, type Token } from "../parser.js";
import { compactSet, parseSequenceSet, resolveSequenceNumbers, sequenceNumberOf, uidRanges } from "../sequence.js";
import type { CommandHandler, SelectedMailbox } from "../command.js";
import type { SearchKey } from "../storage.js";
import { ArgumentError, astring, nz, searchDay } from "../syntax/arguments.js";
import { blobIdOfEmailId, isObjectId } from "../objectid.js";
import { resultToSave, savedUids, type SavedResult } from "../searchres.js";

/** RFC 4731 §3 result options of SEARCH RETURN (...). */
export type ReturnOption = "MIN" | "MAX" | "ALL" | "COUNT";
const RETURN_OPTIONS = new Set<string>(["MIN", "MAX", "ALL", "COUNT"]);

/** What `RETURN (...)` asks for: RFC 4731's options, and RFC 5267's PARTIAL range (positions, low first) and UPDATE. */
export interface ReturnRequest {
  options: Set<ReturnOption>;
  partial?: [number, number];
  /** RFC 5267 §4.3: keep the result up to date with ADDTO / REMOVEFROM. */
  update: boolean;
  /** RFC 5182 §2.4: SAVE the result as `$` (SEARCH only). */
  save: boolean;
  rest: Token[];
}

/** RFC 5267 §4.4 partial-range = nz-number ":" nz-number; either end may come first. */
export function parsePartialRange(token: Token | undefined, command = "SEARCH"): [number, number] {
  const text = token?.type === "atom" ? token.value : "";
  const m = /^([1-9]\d*):([1-9]\d*)$/.exec(text);
  if (!m) throw new ArgumentError(`${command} RETURN PARTIAL needs a range of positions low:high (nz-number:nz-number), not ${textOf(token) ?? "nothing"}`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (a > 0xffffffff || b > 0xffffffff) throw new ArgumentError(`${command} RETURN PARTIAL: ${text} is out of range`);
  return a <= b ? [a, b] : [b, a];
}

/**
 * RFC 4731 §3 / RFC 4466 §2.6: `RETURN (opts)` before the criteria; an empty list means ALL.
 * RFC 5267 adds PARTIAL low:high, UPDATE and the CONTEXT hint (§4.2, nothing to do here).
 * Returns undefined when the command has no RETURN (a plain RFC 3501 SEARCH).
 */
export function parseReturnOptions(tokens: Token[], command = "SEARCH"): ReturnRequest | undefined {
  const first = tokens[0];
  if (first?.type !== "atom" || first.value.toUpperCase() !== "RETURN") return undefined;
  const list = tokens[1];
  if (list?.type !== "list") throw new ArgumentError(`${command} RETURN needs a parenthesized list of result options`);
  const options = new Set<ReturnOption>();
  let partial: [number, number] | undefined;
  let update = false;
  let save = false;
  for (let i = 0; i < list.items.length; i++) {
    const item = list.items[i]!;
    const name = item.type === "atom" ? item.value.toUpperCase() : "";
    if (name === "PARTIAL") {
      if (partial) throw new ArgumentError(`${command} RETURN: PARTIAL given twice`);
      partial = parsePartialRange(list.items[++i], command);
    } else if (name === "UPDATE") update = true;
    else if (name === "SAVE" && command === "SEARCH") save = true;
    else if (name === "CONTEXT") continue;
    else if (RETURN_OPTIONS.has(name)) options.add(name as ReturnOption);
    else throw new ArgumentError(`${command} RETURN: unknown result option ${textOf(item) ?? "(list)"}`);
  }
  // RFC 5267 §4.4: PARTIAL returns a part of what ALL would; both at once make no sense.
  if (partial && options.has("ALL")) throw new ArgumentError(`${command} RETURN: PARTIAL and ALL exclude each other`);
  if (list.items.length === 0) options.add("ALL");
  return { options, ...(partial ? { partial } : {}), update, save, rest: tokens.slice(2) };
}

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
  let rest = args;
  // RFC 9051 §6.4.4: IMAP4rev2 answers a SEARCH without RETURN as RETURN (ALL), with ESEARCH.
  const returning: ReturnRequest | undefined = parseReturnOptions(rest) ?? (session.rev2 ? { options: new Set<ReturnOption>(["ALL"]), update: false, save: false, rest } : undefined);
  if (returning) rest = returning.rest;
  // RFC 5182 §2.1: a SEARCH that SAVEs and fails leaves `$` empty; `$` in its own criteria is the previous one (§2.2).
  const previous = { saved: sel.saved, uids: sel.uids };
  if (returning?.save) sel.saved = [];
  if (rest[0]?.type === "atom" && rest[0].value.toUpperCase() === "CHARSET") {
    const charset = astring(rest[1], "the charset").toUpperCase();
    if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
    rest = rest.slice(2);
  }
  if (rest.length === 0) return { status: "BAD", text: "SEARCH needs criteria" };
  const reader = new KeyReader(rest, sel, previous, session.rev2);
  const keys: SearchKey[] = [];
  while (!reader.done()) keys.push(reader.key());
  const criteria: SearchKey = keys.length === 1 ? keys[0]! : { key: "and", keys };
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

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  UNANSWERED: ["\\Answered", false],
  DELETED: ["\\Deleted", true],
  UNDELETED: ["\\Deleted", false],
  DRAFT: ["\\Draft", true],
  UNDRAFT: ["\\Draft", false],
  FLAGGED: ["\\Flagged", true],
  UNFLAGGED: ["\\Flagged", false],
  SEEN: ["\\Seen", true],
  UNSEEN: ["\\Seen", false],
};

const HEADER_KEYS = new Set(["FROM", "TO", "CC", "BCC", "SUBJECT"]);

export class KeyReader {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly sel: SelectedMailbox,
    /** RFC 5182: what `$` names while these criteria are read. */
    private readonly saved: SavedResult = sel,
    /** RFC 9051 Appendix E: IMAP4rev2 has no \Recent, so no RECENT, NEW or OLD keys. */
    private readonly rev2 = false,
  ) {}

  private recent(): SearchKey {
    // Consecutive recent UIDs (the usual case: everything since the last SELECT) make one range.
    const ranges: [number, number][] = [];
    for (const u of this.sel.uids) {
      if (!this.sel.recent.has(u)) continue;
      const last = ranges[ranges.length - 1];
      if (last && last[1] === u - 1) last[1] = u;
      else ranges.push([u, u]);
    }
    return ranges.length ? { key: "uid", ranges } : { key: "none" };
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new ArgumentError(`SEARCH: ${what} is missing`);
    return t;
  }

  key(): SearchKey {
    const t = this.next("a search key");
    if (t.type === "list") {
      const inner = new KeyReader(t.items, this.sel, this.saved, this.rev2);
      const keys: SearchKey[] = [];
      while (!inner.done()) keys.push(inner.key());
      if (!keys.length) throw new ArgumentError("SEARCH: empty parenthesized key");
      return keys.length === 1 ? keys[0]! : { key: "and", keys };
    }
    if (t.type !== "atom") throw new ArgumentError("SEARCH: expected a search key");
    const name = t.value.toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag) return { key: "flag", flag: flag[0], set: flag[1] };
    if (HEADER_KEYS.has(name)) return { key: "header", field: name.toLowerCase(), value: astring(this.next("the string"), name) };
    if (this.rev2 && (name === "RECENT" || name === "NEW" || name === "OLD")) throw new ArgumentError(`SEARCH: IMAP4rev2 has no ${name} key (RFC 9051 removed \\Recent)`);
    switch (name) {
      case "ALL":
        return { key: "all" };
      // RFC 3501 §6.4.4: \Recent is this session's (see SelectedMailbox.recent), so these
      // keys become the UIDs recent here; NEW is RECENT UNSEEN, OLD is NOT RECENT.
      case "RECENT":
        return this.recent();
      case "NEW":
        return { key: "and", keys: [this.recent(), { key: "flag", flag: "\\Seen", set: false }] };
      case "OLD":
        return { key: "not", inner: this.recent() };
      case "KEYWORD":
      case "UNKEYWORD":
        return { key: "flag", flag: astring(this.next("the keyword"), name), set: name === "KEYWORD" };
      case "BEFORE":
      case "ON":
      case "SINCE":
        return { key: "date", field: "internal", op: name.toLowerCase() as "before", day: searchDay(this.next("the date")) };
      case "SENTBEFORE":
      case "SENTON":
      case "SENTSINCE":
        return { key: "date", field: "sent", op: name.slice(4).toLowerCase() as "before", day: searchDay(this.next("the date")) };
      // RFC 5032 WITHIN: OLDER n / YOUNGER n seconds before now, so OLDER n OR YOUNGER n is ALL.
      case "OLDER":
      case "YOUNGER": {
        const seconds = nz(this.next("the interval"), name);
        if (seconds === 0) throw new ArgumentError(`SEARCH ${name}: the interval must be a non-zero number of seconds`);
        return { key: "instant", op: name === "OLDER" ? "before" : "since", at: Date.now() - seconds * 1000 };
      }
      case "LARGER":
      case "SMALLER":
        return { key: "size", op: name.toLowerCase() as "larger", octets: nz(this.next("the size"), name) };
      case "HEADER":
        return { key: "header", field: astring(this.next("the field name"), "HEADER"), value: astring(this.next("the string"), "HEADER") };
      case "BODY":
      case "TEXT":
        return { key: name.toLowerCase() as "body", value: astring(this.next("the string"), name) };
      case "NOT":
        return { key: "not", inner: this.key() };
      case "OR":
        return { key: "or", left: this.key(), right: this.key() };
      case "UID": {
        const text = textOf(this.next("the UID set")) ?? "";
        if (text === "$") return { key: "uid", ranges: savedUids(this.saved).map((u) => [u, u]) };
        const set = parseSequenceSet(text);
        if (!set) throw new ArgumentError("SEARCH UID: invalid set");
        return { key: "uid", ranges: uidRanges(set, this.sel.uids[this.sel.uids.length - 1] ?? 0) };
      }
      // RFC 8474 §6: EMAILID and THREADID take an objectid; THREADIDs are NIL here, so none matches.
      case "EMAILID":
      case "THREADID": {
        const v = this.next(`the ${name}`);
        const id = v.type === "atom" || v.type === "string" ? v.value.toString() : "";
        if (!isObjectId(id)) throw new ArgumentError(`SEARCH ${name}: ${id || "(a list)"} is not an object id`);
        const blobId = name === "EMAILID" ? blobIdOfEmailId(id) : undefined;
        return blobId ? { key: "blob", blobId } : { key: "none" };
      }
      case "MODSEQ": {
        let v = this.next("the MODSEQ");
        // RFC 7162 §3.1.5: optional entry name and type come first.
        if (v.type === "string" || (v.type === "atom" && !/^\d+$/.test(v.value))) {
          this.next("the entry type");
          v = this.next("the MODSEQ");
        }
        return { key: "modseq", modseq: nz(v, "MODSEQ") };
      }
      default: {
        if (t.value === "$") return { key: "uid", ranges: savedUids(this.saved).map((u) => [u, u]) };
        const set = parseSequenceSet(t.value);
        if (!set) throw new ArgumentError(`SEARCH: unknown key ${t.value}`);
        const uids = resolveSequenceNumbers(set, this.sel.uids);
        return { key: "uid", ranges: uids.map((u) => [u, u]) };
      }
    }
  }
}
