import { describe, expect, it } from "vitest";
import { decideEndpoint, describeAnswer } from "../src/inbound/endpoint-verdict.js";

const base = {
  url: "https://app.test/hook",
  now: new Date("2026-12-02T10:00:00Z"),
  acceptedAt: new Date("2026-12-02T09:00:00Z"),
  attempts: 1,
  giveUpAfterSeconds: 86_400,
  fallback: { kind: "bounce" } as const,
  policy: { minBackoffMs: 60_000, maxBackoffMs: 3_600_000 },
  random: () => 0.5,
};

describe("an inbound endpoint's answer", () => {
  it("delivers on any 2xx, with the status on the timeline", () => {
    expect(decideEndpoint({ ...base, answer: { kind: "status", status: 204, body: "" } })).toEqual({ kind: "delivered", response: "HTTP 204 from https://app.test/hook" });
  });

  it("retries a 5xx, a 4xx, a redirect and a failed connection on the back-off", () => {
    for (const answer of [
      { kind: "status" as const, status: 500, body: "boom" },
      { kind: "status" as const, status: 404, body: "" },
      { kind: "status" as const, status: 302, body: "" },
      { kind: "failed" as const, error: "ECONNREFUSED" },
    ]) {
      const v = decideEndpoint({ ...base, answer });
      expect(v.kind).toBe("retry");
      if (v.kind === "retry") expect(v.at.getTime()).toBeGreaterThan(base.now.getTime());
    }
  });

  it("hands the message to the fallback once the give-up time after arrival has passed", () => {
    const v = decideEndpoint({ ...base, now: new Date("2026-12-03T09:00:00Z"), answer: { kind: "status", status: 503, body: "down" }, fallback: { kind: "mailbox", address: "h@x.test" } });
    expect(v).toEqual({ kind: "fallback", fallback: { kind: "mailbox", address: "h@x.test" }, response: "HTTP 503 from https://app.test/hook: down" });
  });

  it("keeps the reason short and on one line", () => {
    expect(describeAnswer("u", { kind: "status", status: 500, body: `line one\n  line two ${"x".repeat(500)}` })).toMatch(/^HTTP 500 from u: line one line two x{182}$/);
    expect(describeAnswer("u", { kind: "failed", error: "ETIMEDOUT" })).toBe("no HTTP answer from u: ETIMEDOUT");
  });
});
