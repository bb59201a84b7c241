/**
 * "Did you mean": the candidate nearest to what was typed, by edit distance with
 * adjacent transpositions counted once (optimal string alignment), if it is near
 * enough to be a typo rather than another word.
 */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(typed.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  const tolerance = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  if (best !== undefined && bestDistance <= tolerance) return best;
  // A unique prefix is a suggestion too: `acc` → `account`.
  const prefixed = candidates.filter((c) => typed.length >= 2 && c.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
