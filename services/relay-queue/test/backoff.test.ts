import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { JITTER, nextAttemptAt, nominalDelayMs, retryDelayMs } from "../src/backoff.js";

const policy = { minBackoffMs: 60_000, maxBackoffMs: 3_600_000 };
const middle = () => 0.5; // no jitter

describe("retry backoff (RFC 5321 §4.5.4.1)", () => {
  it("waits about RELAY_MIN_BACKOFF before the first retry", () => {
    expect(retryDelayMs(1, policy, middle)).toBe(60_000);
  });

  it("doubles the delay with each failed attempt", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, policy, middle))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000,
    ]);
  });

  it("caps the delay at RELAY_MAX_BACKOFF, even with upward jitter and huge attempt counts", () => {
    expect(retryDelayMs(7, policy, middle)).toBe(3_600_000);
    expect(retryDelayMs(7, policy, () => 0.999)).toBe(3_600_000);
    expect(retryDelayMs(10_000, policy, middle)).toBe(3_600_000);
  });

  it("jitters by at most ±20%", () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(48_000);
    expect(retryDelayMs(1, policy, () => 0.999999)).toBeCloseTo(72_000, -1);
    expect(retryDelayMs(2, policy, () => 0.25)).toBe(108_000);
  });

  it("never schedules past the end of the lifetime", () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const end = new Date(now.getTime() + 30_000);
    expect(nextAttemptAt(now, 1, end, policy, middle)).toEqual(end);
    const far = new Date(now.getTime() + 5 * 86_400_000);
    expect(nextAttemptAt(now, 1, far, policy, middle)).toEqual(new Date(now.getTime() + 60_000));
  });

  it("property: delay within jitter bounds of the nominal delay, never above max; next attempt within (now, lifetime end]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 10 * 86_400_000 }),
        (min, factor, attempts, r, lifetimeLeft) => {
          const p = { minBackoffMs: min, maxBackoffMs: min * factor };
          const nominal = nominalDelayMs(attempts, p);
          const delay = retryDelayMs(attempts, p, () => r);
          expect(nominal).toBeLessThanOrEqual(p.maxBackoffMs);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * (1 - JITTER)));
          expect(delay).toBeLessThanOrEqual(Math.min(Math.ceil(nominal * (1 + JITTER)), p.maxBackoffMs));
          const now = new Date(1_900_000_000_000);
          const end = new Date(now.getTime() + lifetimeLeft);
          const next = nextAttemptAt(now, attempts, end, p, () => r);
          expect(next.getTime()).toBeLessThanOrEqual(end.getTime());
          expect(next.getTime()).toBeGreaterThanOrEqual(now.getTime());
          expect(next.getTime()).toBe(Math.min(now.getTime() + delay, end.getTime()));
        },
      ),
    );
  });
});
