/**
 * RFC 5182 SEARCHRES: `$` names the messages the last `SEARCH RETURN (SAVE)` found (§2.1).
 * The session keeps their UIDs; expunged ones drop out as they go (§2.1), and a new SELECT
 * starts with `$` empty. `$` stands alone where a sequence set may be (§4 grammar).
 */
import { sequenceNumberOf, type SequenceSet } from "./sequence.js";
import type { SetArgument } from "./syntax/arguments.js";

export interface SavedResult {
  /** The UIDs `$` names (ascending). */
  saved: number[];
  /** UIDs in sequence order. */
  uids: number[];
}

/** The UIDs of `$` that still exist. */
export function savedUids(sel: SavedResult): number[] {
  return sel.saved.filter((u) => sequenceNumberOf(sel.uids, u) > 0);
}

/** A sequence-set argument: `$` as the saved messages (their UIDs, or their sequence numbers now), else the set as given. */
export function sequenceSetOf(sel: SavedResult, arg: SetArgument, uid: boolean): SequenceSet {
  if (arg !== "$") return arg;
  return savedUids(sel).map((u) => {
    const n = uid ? u : sequenceNumberOf(sel.uids, u);
    return [n, n] as [number, number];
  });
}

/**
 * §2.4: what SAVE keeps of a result (UIDs ascending): with MIN and/or MAX but neither ALL
 * nor COUNT, only those; otherwise all of it.
 */
export function resultToSave(found: readonly number[], options: ReadonlySet<string>): number[] {
  const onlyMinMax = (options.has("MIN") || options.has("MAX")) && !options.has("ALL") && !options.has("COUNT");
  if (!onlyMinMax || found.length === 0) return [...found];
  const out = new Set<number>();
  if (options.has("MIN")) out.add(found[0]!);
  if (options.has("MAX")) out.add(found[found.length - 1]!);
  return [...out].sort((a, b) => a - b);
}
