/**
 * RFC 5256 SORT: the sort keys, base subject extraction (§2.1) and the ordering.
 * Pure functions: the SORT command (commands/sort.ts) feeds them the messages' envelopes.
 */
import type { EnvelopeAddress } from "./storage.js";

export type SortKeyName = "ARRIVAL" | "CC" | "DATE" | "FROM" | "SIZE" | "SUBJECT" | "TO" | "DISPLAYFROM" | "DISPLAYTO";
/** RFC 5256 §3 keys and RFC 5957's DISPLAYFROM, DISPLAYTO (SORT=DISPLAY). */
export const SORT_KEYS: ReadonlySet<string> = new Set<SortKeyName>(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]);

export interface SortCriterion {
  key: SortKeyName;
  reverse: boolean;
}

/** What each message contributes to the sort keys; `subject` and the addresses' names already decoded from RFC 2047 encoded words. */
export interface SortInput {
  uid: number;
  /** Position in the mailbox (sequence number): the final tie-break (RFC 5256 §3). */
  seq: number;
  internalDate: Date;
  size: number;
  /** The Date: header as sent, unparsed. */
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
}

const BLOB = String.raw`\[[^\[\]]*\] *`;
/** subj-trailer = "(fwd)" / WSP */
const TRAILER = /(?:\(fwd\)| )$/i;
/** subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
const LEADER = new RegExp(String.raw`^(?:(?:${BLOB})*(?:re|fwd?) *(?:${BLOB})?:| )`, "i");
const LEADING_BLOB = new RegExp(`^${BLOB}`);
/** subj-fwd = subj-fwd-hdr subject subj-fwd-trl; "[fwd:" ... "]" */
const FWD = /^\[fwd:([\s\S]*)\]$/i;

/** RFC 5256 §2.1: the base subject of an (already decoded) Subject value. */
export function baseSubject(subject: string): string {
  return baseSubjectInfo(subject).base;
}

/**
 * RFC 5256 §2.1 with what §2.2 step 5 needs besides: whether the subject is a reply or a
 * forward (extraction removed a subj-refwd, a "(fwd)" trailer or a "[fwd: ...]" wrapper).
 */
export function baseSubjectInfo(subject: string): { base: string; isReply: boolean } {
  // (1) Tabs and folding become spaces; runs of whitespace collapse to one space.
  let s = subject.replace(/\r?\n/g, "").replace(/[ \t]+/g, " ");
  let isReply = false;
  for (;;) {
    // (2) Remove trailing subj-trailers, repeatedly.
    for (let t = TRAILER.exec(s); t; t = TRAILER.exec(s)) {
      if (t[0] !== " ") isReply = true;
      s = s.slice(0, t.index);
    }
    // (3)-(5) Remove leading subj-leaders, and a subj-blob unless it is all that is left.
    for (;;) {
      const before = s;
      for (let l = LEADER.exec(s); l; l = LEADER.exec(s)) {
        if (l[0] !== " ") isReply = true;
        s = s.slice(l[0].length);
      }
      const blob = LEADING_BLOB.exec(s);
      if (blob && blob[0].length < s.length) s = s.slice(blob[0].length);
      if (s === before) break;
    }
    // (6) "[fwd:" subject "]": unwrap and start over at (2).
    const fwd = FWD.exec(s);
    if (!fwd) return { base: s, isReply };
    isReply = true;
    s = fwd[1]!;
  }
}

/** i;ascii-casemap (RFC 4790 §9.2): a-z compare as A-Z, then octet by octet. */
export function compareAsciiCasemap(a: string, b: string): number {
  const up = (x: string) => Buffer.from(x.replace(/[a-z]+/g, (m) => m.toUpperCase()), "utf8");
  return Buffer.compare(up(a), up(b));
}

/** RFC 5256 §3 FROM/TO/CC: the addr-mailbox of the first address, "" when there is none. */
function firstMailbox(list: EnvelopeAddress[] | null): string {
  return list?.[0]?.mailbox ?? "";
}

/**
 * RFC 5957 DISPLAYFROM/DISPLAYTO: the display-name of the first address; when it has none
 * (or an empty one), its addr-spec, mailbox@host (a group's start: the group name).
 */
function displayName(list: EnvelopeAddress[] | null): string {
  const a = list?.[0];
  if (!a) return "";
  if (a.name) return a.name;
  // A mailbox without a domain (`From: d`, host "") is its local part alone.
  return a.host === null || a.host === "" ? (a.mailbox ?? "") : `${a.mailbox ?? ""}@${a.host}`;
}

/** RFC 5256 §3 DATE: the sent date, adjusted to UTC; the INTERNALDATE when Date: is missing or unparsable. */
export function sentTime(date: string | null, internalDate: Date): number {
  if (date !== null) {
    // Comments (e.g. "(PST)") are no part of the date.
    const t = Date.parse(date.replace(/\([^()]*\)/g, " ").trim());
    if (!Number.isNaN(t)) return t;
  }
  return internalDate.getTime();
}

type Value = number | string;

function valueOf(key: SortKeyName, m: SortInput): Value {
  switch (key) {
    case "ARRIVAL":
      return m.internalDate.getTime();
    case "SIZE":
      return m.size;
    case "DATE":
      return sentTime(m.date, m.internalDate);
    case "SUBJECT":
      return baseSubject(m.subject ?? "");
    case "FROM":
      return firstMailbox(m.from);
    case "TO":
      return firstMailbox(m.to);
    case "CC":
      return firstMailbox(m.cc);
    case "DISPLAYFROM":
      return displayName(m.from);
    case "DISPLAYTO":
      return displayName(m.to);
  }
}

/** RFC 5256 §3: the messages ordered by the criteria in turn; exact ties keep mailbox order (sequence numbers). */
export function sortMessages(messages: readonly SortInput[], criteria: readonly SortCriterion[]): SortInput[] {
  const keyed = messages.map((m) => ({ m, values: criteria.map((c) => valueOf(c.key, m)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < criteria.length; i++) {
      const a = x.values[i]!;
      const b = y.values[i]!;
      const d = typeof a === "number" ? a - (b as number) : compareAsciiCasemap(a, b as string);
      if (d !== 0) return criteria[i]!.reverse ? -d : d;
    }
    return x.m.seq - y.m.seq;
  });
  return keyed.map((k) => k.m);
}

/**
 * RFC 5256 §4 THREAD=ORDEREDSUBJECT: messages grouped by base subject, each group in sent-date
 * order (ties: mailbox order), the groups ordered by the sent date of their first message.
 */
export function threadOrderedSubject(messages: readonly SortInput[]): SortInput[][] {
  const sorted = sortMessages(messages, [
    { key: "SUBJECT", reverse: false },
    { key: "DATE", reverse: false },
  ]);
  const threads: SortInput[][] = [];
  let last: string | undefined;
  for (const m of sorted) {
    const subject = baseSubject(m.subject ?? "");
    if (last === undefined || compareAsciiCasemap(subject, last) !== 0) threads.push([]);
    threads[threads.length - 1]!.push(m);
    last = subject;
  }
  const first = (t: SortInput[]) => t[0]!;
  return threads.sort((a, b) => sentTime(first(a).date, first(a).internalDate) - sentTime(first(b).date, first(b).internalDate) || first(a).seq - first(b).seq);
}

/**
 * The THREAD response's thread-list (RFC 5256 §5) for ORDEREDSUBJECT threads: the first message
 * is the parent, the others its children; a lone child continues the chain (`(9 10)`).
 */
export function orderedSubjectThreadList(threads: readonly (readonly number[])[]): string {
  return threads
    .map(([parent, ...children]) => {
      if (children.length === 0) return `(${parent})`;
      if (children.length === 1) return `(${parent} ${children[0]})`;
      return `(${parent} ${children.map((c) => `(${c})`).join("")})`;
    })
    .join("");
}
