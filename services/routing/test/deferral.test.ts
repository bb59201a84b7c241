import { describe, expect, it } from "vitest";
import { afterDeferral } from "../src/deferral.js";

const policy = { minBackoffMs: 60_000, maxBackoffMs: 3_600_000, maxLifetimeMs: 5 * 86_400_000 };
const accepted = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(accepted.getTime() + ms);

describe("routing deferral (DNS temporary failure)", () => {
  it("doubles the delay from the minimum up to the maximum", () => {
    const delays = [0, 1, 2, 3, 6, 7, 20].map((n) => {
      const r = afterDeferral(at(1000), accepted, n, policy);
      return r.kind === "retry" ? r.at.getTime() - at(1000).getTime() : -1;
    });
    expect(delays).toEqual([60_000, 120_000, 240_000, 480_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it("never schedules past the lifetime, and expires once it is over", () => {
    const nearEnd = at(policy.maxLifetimeMs - 10_000);
    expect(afterDeferral(nearEnd, accepted, 5, policy)).toEqual({ kind: "retry", at: at(policy.maxLifetimeMs) });
    expect(afterDeferral(at(policy.maxLifetimeMs), accepted, 5, policy)).toEqual({ kind: "expire" });
  });
});
