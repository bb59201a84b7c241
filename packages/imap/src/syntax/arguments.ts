/**
 * Readers for the argument kinds commands share (RFC 3501 §9): astrings, flags, numbers,
 * dates, sequence sets. Pure: a token in, a value or an ArgumentError out.
 */
import { textOf, type Token } from "../parser.js";
import { parseSequenceSet, type SequenceSet } from "../sequence.js";
import { systemFlag } from "../storage.js";

/**
 * Arguments the command will not take. BAD (the session answers it at once, RFC 3501
 * §7.1.3) unless `status` says NO: a well-formed request refused, such as an unsupported
 * charset, answered as a handler's NO would be.
 */
export class ArgumentError extends Error {
  constructor(
    message: string,
    readonly status: "BAD" | "NO" = "BAD",
    readonly code?: string,
  ) {
    super(message);
  }
}

export function astring(t: Token | undefined, what: string): string {
  const v = textOf(t);
  if (v === undefined) throw new ArgumentError(`${what} is missing or not a string`);
  return v;
}

/** A mailbox argument as sent; the command decodes it (commands/arguments.ts mailboxName: modified UTF-7 or UTF-8). */
export function mailboxArg(t: Token | undefined): string {
  return astring(t, "the mailbox name");
}

/** RFC 3501 §2.3.2: system flags are case-insensitive; they are stored in their canonical case. */
export function flagList(t: Token | undefined): string[] {
  const items = !t ? [] : t.type === "list" ? t.items : [t];
  const out: string[] = [];
  for (const item of items) {
    if (item.type !== "atom" || item.section) throw new ArgumentError("flags must be atoms");
    const lower = item.value.toLowerCase();
    const flag = systemFlag(item.value);
    if (lower === "\\recent") throw new ArgumentError("\\Recent cannot be set by a client");
    if (!flag && item.value.startsWith("\\")) throw new ArgumentError(`unknown system flag ${item.value}`);
    const f = flag ?? item.value;
    if (!out.some((x) => x.toLowerCase() === f.toLowerCase())) out.push(f);
  }
  return out;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** `1-Feb-1994` (RFC 3501 date) → `1994-02-01`. */
export function searchDay(t: Token | undefined): string {
  const v = textOf(t);
  const m = v && /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(v);
  const month = m ? MONTHS.indexOf(m[2]!.toLowerCase()) : -1;
  if (!m || month < 0) throw new ArgumentError(`${v ?? "(missing)"} is not a date like 1-Feb-2024`);
  return `${m[3]}-${String(month + 1).padStart(2, "0")}-${m[1]!.padStart(2, "0")}`;
}

/** `17-Jul-1996 02:44:25 -0700` (RFC 3501 date-time) → Date. */
export function dateTime(v: string): Date | undefined {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(v);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return undefined;
  const offset = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000);
}

/** Date → `17-Jul-1996 09:44:25 +0000` for INTERNALDATE. */
export function formatDateTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const month = MONTHS[d.getUTCMonth()]!;
  return `${p(d.getUTCDate())}-${month[0]!.toUpperCase()}${month.slice(1)}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function nz(t: Token | undefined, what: string): number {
  const v = textOf(t);
  if (!v || !/^\d+$/.test(v)) throw new ArgumentError(`${what} must be a number`);
  return Number(v);
}

/** A sequence-set argument (RFC 3501 §9), or RFC 5182's `$`, which the command resolves (searchres.ts). */
export type SetArgument = SequenceSet | "$";

/** The atom's text as a sequence set or `$`; undefined when it is neither (or no atom). */
export function setArgument(t: Token | undefined): SetArgument | undefined {
  const text = t?.type === "atom" ? t.value : "";
  return text === "$" ? "$" : parseSequenceSet(text);
}
