import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { afterFailure, deferUntil, JITTER, nextAttemptAt, nominalDelayMs, parkedFor, retryAfterHintMs, retryDelayMs } from "../src/backoff.js";

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

describe("a 4xx reply that says when to retry (retry-after rule)", () => {
  const policy = { minBackoffMs: 60_000, maxBackoffMs: 3_600_000 };
  const now = new Date("2026-12-01T10:00:00Z");
  const end = new Date("2026-12-06T10:00:00Z");
  it.each([
    ["451 4.7.1 greylisted, please try again in 10 minutes", 600_000],
    ["450 4.2.0 Greylisted, retry after 300 seconds", 300_000],
    ["421 4.7.0 Try again in 2 hours", 7_200_000],
    ["451 4.7.1 please retry in 90s", 90_000],
    ["451 4.3.0 mailbox busy, try again later", undefined],
    ["452 4.2.2 mailbox full", undefined],
  ])("%s → %s ms", (reply, ms) => {
    expect(retryAfterHintMs(reply)).toBe(ms);
  });
  it("never retries sooner than asked, never later than the backoff would without a reason, never past the lifetime", () => {
    const random = () => 0.5;
    expect(deferUntil(now, 1, end, policy, random, "451 4.7.1 try again in 10 minutes").getTime()).toBe(now.getTime() + 600_000);
    expect(deferUntil(now, 1, end, policy, random, "451 4.7.1 try again in 10 seconds").getTime()).toBe(now.getTime() + 60_000);
    expect(deferUntil(now, 1, end, policy, random, "451 4.3.0 busy").getTime()).toBe(now.getTime() + 60_000);
    const soonEnd = new Date(now.getTime() + 120_000);
    expect(deferUntil(now, 1, soonEnd, policy, random, "451 try again in 1 hour").getTime()).toBe(soonEnd.getTime());
  });
});

describe("dead destinations", () => {
  const policy = { minBackoffMs: 60_000, maxBackoffMs: 3_600_000 };
  it("parks a destination after RELAY_PARK_AFTER failures in a row, for longer each time", () => {
    expect(parkedFor(1, 3, policy)).toBeUndefined();
    expect(parkedFor(2, 3, policy)).toBeUndefined();
    expect(parkedFor(3, 3, policy)).toBe(60_000);
    expect(parkedFor(4, 3, policy)).toBe(120_000);
    expect(parkedFor(40, 3, policy)).toBe(3_600_000);
  });

  describe("afterFailure (the relay's 4xx and routing's DNS deferrals alike)", () => {
    const lifetime = { minBackoffMs: 60_000, maxBackoffMs: 3_600_000 };
    const accepted = new Date("2026-01-01T00:00:00Z");
    const end = new Date(accepted.getTime() + 5 * 86_400_000);
    const at = (ms: number) => new Date(accepted.getTime() + ms);
    const noJitter = () => 0.5;

    it("doubles the delay from the minimum up to the maximum", () => {
      const delays = [1, 2, 3, 4, 7, 8, 21].map((n) => {
        const r = afterFailure(at(1000), n, end, lifetime, noJitter);
        return r.kind === "retry" ? r.at.getTime() - at(1000).getTime() : -1;
      });
      expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 3_600_000, 3_600_000, 3_600_000]);
    });

    it("never schedules past the lifetime, and expires once it is over", () => {
      expect(afterFailure(new Date(end.getTime() - 10_000), 6, end, lifetime, noJitter)).toEqual({ kind: "retry", at: end });
      expect(afterFailure(end, 6, end, lifetime, noJitter)).toEqual({ kind: "expire" });
    });
  });
});
