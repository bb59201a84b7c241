/**
 * SELECT / EXAMINE parameters (RFC 4466 §2.1 select-params): CONDSTORE (RFC 7162 §3.1.8)
 * and QRESYNC (RFC 7162 §3.2.5, grammar in §7):
 *
 *   "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
 *   seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 *
 * `*` is not allowed in known-uids nor in seq-match-data (§7). Pure: tokens in, a request
 * or a SelectParamError (BAD) out; parseSelect reads the mailbox name (as sent) before them.
 */
import type { Token } from "../parser.js";
import { parseSequenceSet, type SequenceSet } from "../sequence.js";
import { ArgumentError, mailboxArg } from "./arguments.js";

export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  /** The UIDs the client knows; undefined: all (1:*). */
  knownUids?: [number, number][];
  /** Message numbers and the UIDs the client had at them (§3.2.5.2); a hint for servers without the full expunge history. */
  seqMatch?: { seqs: [number, number][]; uids: [number, number][] };
}

export interface SelectParams {
  condstore: boolean;
  qresync?: QresyncParams;
}

export class SelectParamError extends Error {}

/** RFC 7162 §7: mod-sequence-value is 1*DIGIT in 1..2^63-1; uidvalidity an nz-number below 2^32 (RFC 3501 §9). */
function positive(t: Token | undefined, what: string): number {
  const v = t?.type === "atom" && !t.section ? t.value : undefined;
  if (!v || !/^[1-9]\d*$/.test(v)) throw new SelectParamError(`QRESYNC: ${what} must be a positive number`);
  if (BigInt(v) > (what === "UIDVALIDITY" ? 0xffffffffn : 0x7fffffffffffffffn)) throw new SelectParamError(`QRESYNC: ${what} ${v} is too large`);
  // Correo's MODSEQs stay far below 2^53; a larger one is above all of them ("nothing since").
  return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
}

/** A sequence-set without `*`, as ascending closed ranges in the order given. */
function starless(t: Token | undefined, what: string): [number, number][] {
  const v = t?.type === "atom" && !t.section ? t.value : "";
  const set: SequenceSet | undefined = parseSequenceSet(v);
  if (!set) throw new SelectParamError(`QRESYNC: ${what} must be a sequence set`);
  if (set.some(([a, b]) => a === "*" || b === "*")) throw new SelectParamError(`QRESYNC: ${what} must not contain *`);
  return set.map(([a, b]) => [Math.min(a as number, b as number), Math.max(a as number, b as number)]);
}

/** How many numbers a list of ranges names. */
export function rangeCount(ranges: readonly [number, number][]): number {
  return ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
}

export function parseQresync(t: Token | undefined): QresyncParams {
  if (t?.type !== "list") throw new SelectParamError("QRESYNC takes a parenthesized list: (uidvalidity modseq [known-uids] [(seqs uids)])");
  const items = t.items;
  if (items.length < 2 || items.length > 4) throw new SelectParamError("QRESYNC takes a UIDVALIDITY, a MODSEQ, known UIDs and sequence match data");
  const out: QresyncParams = { uidValidity: positive(items[0], "UIDVALIDITY"), modseq: positive(items[1], "the mod-sequence") };
  let i = 2;
  if (items[i] && items[i]!.type !== "list") out.knownUids = starless(items[i++], "the known UIDs");
  const match = items[i];
  if (match) {
    if (match.type !== "list" || match.items.length !== 2) throw new SelectParamError("QRESYNC: sequence match data is (known-sequence-set known-uid-set)");
    const seqs = starless(match.items[0], "the known sequence set");
    const uids = starless(match.items[1], "the known UID set");
    if (rangeCount(seqs) !== rangeCount(uids)) throw new SelectParamError("QRESYNC: the known sequence set and UID set differ in length");
    out.seqMatch = { seqs, uids };
    i++;
  }
  if (i !== items.length) throw new SelectParamError("QRESYNC: unexpected argument after the sequence match data");
  return out;
}

/** `SELECT mailbox [params]` (RFC 3501 §6.3.1, RFC 4466 §2.1); `command`: SELECT or EXAMINE, as the refusal names it. */
export function parseSelect(args: readonly Token[], command: string): { mailbox: string; params: SelectParams } {
  if (args.length < 1) throw new ArgumentError(`${command} takes a mailbox name`);
  const mailbox = mailboxArg(args[0]);
  return { mailbox, params: parseSelectParams(args[1], args.slice(2)) };
}

/** The parameter list after the mailbox name; undefined when there is none. */
export function parseSelectParams(t: Token | undefined, extra: readonly Token[] = []): SelectParams {
  const out: SelectParams = { condstore: false };
  if (extra.length) throw new SelectParamError("SELECT takes a mailbox name and one parameter list");
  if (t === undefined) return out;
  if (t.type !== "list") throw new SelectParamError("SELECT parameters must be a parenthesized list");
  const items = t.items;
  for (let i = 0; i < items.length; i++) {
    const p = items[i]!;
    const name = p.type === "atom" && !p.section ? p.value.toUpperCase() : "";
    if (name === "CONDSTORE") {
      if (out.condstore) throw new SelectParamError("CONDSTORE given twice");
      out.condstore = true;
    } else if (name === "QRESYNC") {
      if (out.qresync) throw new SelectParamError("QRESYNC given twice");
      out.qresync = parseQresync(items[++i]);
    } else throw new SelectParamError(`unknown SELECT parameter ${p.type === "list" ? "(…)" : p.value.toString()}`);
  }
  return out;
}

/** Whether a UID is inside ranges (ascending or not). */
export function inRanges(ranges: readonly [number, number][] | undefined, uid: number): boolean {
  if (!ranges) return true;
  for (const [lo, hi] of ranges) if (uid >= lo && uid <= hi) return true;
  return false;
}
