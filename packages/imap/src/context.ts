/**
 * RFC 5267 §4 contexts: SEARCH / SORT results a client asked to keep up to date (RETURN
 * (UPDATE)). Each lives while its mailbox stays selected; after every command the session
 * evaluates them again and reports what changed with ADDTO / REMOVEFROM (§4.3), and before
 * an EXPUNGE response it reports the expunged messages' removal, while their sequence
 * numbers still mean them.
 */
import { atom, type ImapValue } from "./encoder.js";
import { compactSet, sequenceNumberOf } from "./sequence.js";
import type { SortCriterion } from "./sort.js";
import type { SearchKey } from "./storage.js";

export interface SearchContext {
  /** The correlator: the tag of the command that made the context (RFC 4466 §2.6.2 TAG). */
  tag: string;
  /** UID SEARCH / UID SORT: the notifications give UIDs, else sequence numbers. */
  uid: boolean;
  criteria: SearchKey;
  /** CONTEXT=SORT: the result is in this order; a SEARCH context is in mailbox order. */
  sort?: readonly SortCriterion[];
  /** The UIDs of the result as the client knows it, in result order. */
  result: number[];
}

export interface ContextChange {
  /** 1-based position in the result: for a removal, in the result before; for an addition, after. */
  position: number;
  uid: number;
}

/**
 * RFC 5267 §4.3: what turns the result `before` into `after` (UIDs in result order). Removals
 * from the last position back, additions from the first position on, so that applying them in
 * that order, each at its position, gives `after` (the messages both hold keep their order:
 * sort keys never change).
 */
export function contextChanges(before: readonly number[], after: readonly number[]): { removed: ContextChange[]; added: ContextChange[] } {
  const now = new Set(after);
  const then = new Set(before);
  const removed: ContextChange[] = [];
  before.forEach((uid, i) => {
    if (!now.has(uid)) removed.push({ position: i + 1, uid });
  });
  removed.reverse();
  const added: ContextChange[] = [];
  after.forEach((uid, i) => {
    if (!then.has(uid)) added.push({ position: i + 1, uid });
  });
  return { removed, added };
}

/**
 * The ESEARCH return data (after the correlator and UID) for one kind of change (RFC 5267
 * §4.3.3 ADDTO, §4.3.4 REMOVEFROM). A SEARCH context is unordered: one item at position 0
 * with the set ascending (as Dovecot sends it). A SORT context: an item per message at its
 * position. `number` maps a UID to what the client sees (itself, or its sequence number).
 */
export function changeItems(kind: "ADDTO" | "REMOVEFROM", changes: readonly ContextChange[], sorted: boolean, number: (uid: number) => number): ImapValue[] {
  if (changes.length === 0) return [];
  if (!sorted) return [atom(kind), [0, atom(compactSet(changes.map((c) => number(c.uid)).sort((a, b) => a - b)))]];
  return changes.flatMap((c) => [atom(kind), [c.position, number(c.uid)]]);
}

/** The number a context's client sees for a UID: the UID, or its sequence number in `uids`. */
export function numberIn(ctx: Pick<SearchContext, "uid">, uids: readonly number[]): (uid: number) => number {
  return ctx.uid ? (u) => u : (u) => sequenceNumberOf(uids, u);
}
