/**
 * SEARCH / UID SEARCH arguments (RFC 3501 §6.4.4, RFC 9051 §6.4.4): RFC 4731 / RFC 5267's
 * `RETURN (...)`, CHARSET, and the search keys, which SORT and THREAD (RFC 5256) take too.
 * Pure: tokens in, the request or an ArgumentError out. What depends on the selected
 * mailbox stays named, for the command to resolve (commands/search.ts searchKeyOf): message
 * numbers and UID sets, `$` (RFC 5182), \Recent (RECENT, NEW, OLD), and WITHIN's intervals
 * (RFC 5032), which count back from the moment of the search.
 */
import { textOf, type Token } from "../parser.js";
import { parseSequenceSet, type SequenceSet } from "../sequence.js";
import type { SearchKey } from "../storage.js";
import { blobIdOfEmailId, isObjectId } from "../objectid.js";
import { ArgumentError, astring, nz, searchDay } from "./arguments.js";

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

/** A search key as written: SearchKey, with what the mailbox or the clock decide left named. */
export type SearchSyntax =
  | Exclude<SearchKey, { key: "uid" | "instant" | "not" | "or" | "and" }>
  /** RFC 3501 §6.4.4 RECENT, NEW (RECENT UNSEEN), OLD (NOT RECENT): \Recent is per session. */
  | { key: "recent" | "new" | "old" }
  /** RFC 5182 `$`, alone or as UID's set: the messages the last SEARCH SAVEd. */
  | { key: "saved" }
  /** Message sequence numbers. */
  | { key: "sequence"; set: SequenceSet }
  | { key: "uids"; set: SequenceSet }
  /** RFC 5032 OLDER / YOUNGER n: seconds before the search. */
  | { key: "within"; op: "before" | "since"; seconds: number }
  | { key: "not"; inner: SearchSyntax }
  | { key: "or"; left: SearchSyntax; right: SearchSyntax }
  | { key: "and"; keys: SearchSyntax[] };

export const CHARSETS = ["UTF-8", "US-ASCII"];

/** RFC 3501 §6.4.4: an unsupported charset is NO [BADCHARSET (the ones supported)]. */
export function checkCharset(charset: string): void {
  if (!CHARSETS.includes(charset)) throw new ArgumentError(`charset ${charset} is not supported`, "NO", `BADCHARSET (${CHARSETS.join(" ")})`);
}

/**
 * What follows SEARCH's RETURN (...) (parseReturnOptions, read first: RFC 5182 §2.1 empties
 * `$` even when the rest is refused): `[CHARSET charset] key *(SP key)`.
 * `rev2`: RFC 9051 Appendix E, IMAP4rev2 has no RECENT, NEW or OLD.
 */
export function parseSearchCriteria(tokens: Token[], opts: { rev2: boolean }): SearchSyntax[] {
  let rest = tokens;
  if (rest[0]?.type === "atom" && rest[0].value.toUpperCase() === "CHARSET") {
    checkCharset(astring(rest[1], "the charset").toUpperCase());
    rest = rest.slice(2);
  }
  if (rest.length === 0) throw new ArgumentError("SEARCH needs criteria");
  return parseSearchKeys(rest, opts);
}

/** One or more search keys (RFC 3501 §9 search-key), as SEARCH, SORT and THREAD take them. */
export function parseSearchKeys(tokens: readonly Token[], opts: { rev2: boolean }): SearchSyntax[] {
  const reader = new KeyReader(tokens, opts.rev2);
  const keys: SearchSyntax[] = [];
  while (!reader.done()) keys.push(reader.key());
  return keys;
}

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

class KeyReader {
  private i = 0;
  constructor(
    private readonly tokens: readonly Token[],
    /** RFC 9051 Appendix E: IMAP4rev2 has no \Recent, so no RECENT, NEW or OLD keys. */
    private readonly rev2: boolean,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new ArgumentError(`SEARCH: ${what} is missing`);
    return t;
  }

  key(): SearchSyntax {
    const t = this.next("a search key");
    if (t.type === "list") {
      const keys = parseSearchKeys(t.items, { rev2: this.rev2 });
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
      case "RECENT":
      case "NEW":
      case "OLD":
        return { key: name.toLowerCase() as "recent" };
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
        return { key: "within", op: name === "OLDER" ? "before" : "since", seconds };
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
        if (text === "$") return { key: "saved" };
        const set = parseSequenceSet(text);
        if (!set) throw new ArgumentError("SEARCH UID: invalid set");
        return { key: "uids", set };
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
        if (t.value === "$") return { key: "saved" };
        const set = parseSequenceSet(t.value);
        if (!set) throw new ArgumentError(`SEARCH: unknown key ${t.value}`);
        return { key: "sequence", set };
      }
    }
  }
}
