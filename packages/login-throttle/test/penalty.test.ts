import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { clientKey, decideLoginAttempt, penaltyDelayMs, type LoginThrottleLimits } from "../src/index.js";

const limits: LoginThrottleLimits = { maxFailuresPerAddress: 10, windowMs: 900_000, penaltyBaseMs: 500, penaltyMaxMs: 15_000 };

describe("the account penalty (Dovecot's auth penalty)", () => {
  it("answers the first failure at once, then 0.5, 1, 2, 4, 8 s, capped at the maximum", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => penaltyDelayMs(n, limits))).toEqual([0, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });
  it("never shrinks as failures grow and never exceeds the cap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 60_000 }), (n, base, max) => {
        const l = { ...limits, penaltyBaseMs: base, penaltyMaxMs: max };
        expect(penaltyDelayMs(n + 1, l)).toBeGreaterThanOrEqual(penaltyDelayMs(n, l));
        expect(penaltyDelayMs(n, l)).toBeLessThanOrEqual(max);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
  it("is off with a zero base", () => {
    expect(penaltyDelayMs(50, { ...limits, penaltyBaseMs: 0 })).toBe(0);
  });
});

describe("the client address gate", () => {
  it("checks the password below the limit and refuses the address at it, until its window passes", () => {
    expect(decideLoginAttempt(9, 1000, limits)).toEqual({ verdict: "check" });
    expect(decideLoginAttempt(10, 61_000, limits)).toEqual({ verdict: "refuse", retryAfterMs: 61_000 });
    // A counter without a TTL (should not happen) is refused for a whole window.
    expect(decideLoginAttempt(12, -1, limits)).toEqual({ verdict: "refuse", retryAfterMs: 900_000 });
  });
});

describe("clientKey", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:0000:0000:0000:0009", "2001:db8:1:2::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    [undefined, "unknown"],
  ])("counts %s as %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});
