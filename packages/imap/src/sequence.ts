/**
 * Sequence sets (RFC 3501 §9 sequence-set): `1:4,7,9:*`. Ranges are resolved against
 * the selected mailbox: message sequence numbers to UIDs, or UID ranges to the UIDs
 * that exist; `*` is the largest number in use (RFC 3501 §6.4.8).
 */
export type SequenceSet = [number | "*", number | "*"][];

export function parseSequenceSet(text: string): SequenceSet | undefined {
  if (!/^[0-9*:,]+$/.test(text)) return undefined;
  const out: SequenceSet = [];
  for (const item of text.split(",")) {
    const m = /^(\d+|\*)(?::(\d+|\*))?$/.exec(item);
    if (!m) return undefined;
    const a = m[1] === "*" ? "*" : Number(m[1]);
    const b = m[2] === undefined ? a : m[2] === "*" ? "*" : Number(m[2]);
    if (a === 0 || b === 0) return undefined;
    out.push([a, b]);
  }
  return out;
}

/** Message sequence numbers → UIDs, in sequence order. Numbers above the count are ignored. */
export function resolveSequenceNumbers(set: SequenceSet, uids: readonly number[]): number[] {
  const n = uids.length;
  const chosen = new Set<number>();
  for (const [a, b] of set) {
    const x = a === "*" ? n : a;
    const y = b === "*" ? n : b;
    const lo = Math.max(1, Math.min(x, y));
    const hi = Math.min(n, Math.max(x, y));
    for (let i = lo; i <= hi; i++) chosen.add(i);
  }
  return [...chosen].sort((p, q) => p - q).map((i) => uids[i - 1]!);
}

/** UID ranges → the existing UIDs in them, ascending. `*` is the largest UID (or 0 when empty). */
export function resolveUids(set: SequenceSet, uids: readonly number[]): number[] {
  const max = uids.length ? uids[uids.length - 1]! : 0;
  const ranges = set.map(([a, b]) => {
    const x = a === "*" ? max : a;
    const y = b === "*" ? max : b;
    return [Math.min(x, y), Math.max(x, y)] as [number, number];
  });
  return uids.filter((u) => ranges.some(([lo, hi]) => u >= lo && u <= hi));
}

/** UID ranges as numbers, `*` being the largest UID, for searches. */
export function uidRanges(set: SequenceSet, maxUid: number): [number, number][] {
  return set.map(([a, b]) => {
    const x = a === "*" ? maxUid : a;
    const y = b === "*" ? maxUid : b;
    return [Math.min(x, y), Math.max(x, y)];
  });
}

/** Compact form of ascending numbers: 1,2,3,7 → "1:3,7" (RFC 4315 uid-set). */
export function compactSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? String(numbers[i]) : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Binary search: the 1-based sequence number of a UID, or 0. */
export function sequenceNumberOf(uids: readonly number[], uid: number): number {
  let lo = 0;
  let hi = uids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = uids[mid]!;
    if (v === uid) return mid + 1;
    if (v < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** The index of the first element of the ascending `uids` above `uid` (uids.length if none). */
export function firstAbove(uids: readonly number[], uid: number): number {
  let lo = 0;
  let hi = uids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (uids[mid]! <= uid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
