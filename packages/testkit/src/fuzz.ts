/**
 * fast-check settings of the listener fuzzers: a fixed seed and a bounded number of
 * runs, so `pnpm test` is deterministic and quick. For a longer hunt, FUZZ_RUNS
 * multiplies the runs and FUZZ_SEED replaces every seed (the failing seed and path are
 * printed, and a run with them replays the failure).
 */
export function fuzzRun(seed: number, numRuns: number): { seed: number; numRuns: number; endOnFailure: true } {
  const factor = Number(process.env.FUZZ_RUNS ?? 1);
  const override = process.env.FUZZ_SEED;
  return {
    seed: override !== undefined && override !== "" ? Number(override) : seed,
    numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1))),
    endOnFailure: true,
  };
}
