import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FailureTally, recipientDomain, replyStatus } from "../src/index.js";

describe("replyStatus", () => {
  it("takes the enhanced status code of a reply (RFC 3463) and its class", () => {
    expect(replyStatus("550 5.1.1 no such user here")).toEqual({ status: "5.1.1", statusClass: "5" });
    expect(replyStatus("451 4.4.1 connection refused by 127.0.0.1:1")).toEqual({ status: "4.4.1", statusClass: "4" });
    expect(replyStatus("4.4.7 delivery time expired")).toEqual({ status: "4.4.7", statusClass: "4" });
  });

  it("falls back to the basic reply code (RFC 5321 §4.2) when there is no enhanced code", () => {
    expect(replyStatus("554 transaction failed")).toEqual({ status: "554", statusClass: "5" });
    expect(replyStatus("421-busy, try later")).toEqual({ status: "421", statusClass: "4" });
  });

  it("answers unknown for anything else, so label values stay bounded", () => {
    expect(replyStatus(null)).toEqual({ status: "unknown", statusClass: "unknown" });
    expect(replyStatus("local mailbox INBOX")).toEqual({ status: "unknown", statusClass: "unknown" });
    expect(replyStatus("version 5.10.100a")).toEqual({ status: "unknown", statusClass: "unknown" });
  });

  it("never yields a status outside a small, fixed shape, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const { status, statusClass } = replyStatus(text);
        expect(status).toMatch(/^(unknown|[245]\d\d|[245]\.\d{1,3}\.\d{1,3})$/);
        expect(statusClass).toMatch(/^(unknown|[245])$/);
        if (status !== "unknown") expect(status[0]).toBe(statusClass);
      }),
    );
  });

  it("reports every outcome of each route at 0 before the first failure", () => {
    const zero = new FailureTally().readings();
    expect(zero).toHaveLength(6);
    for (const outcome of ["deferred", "bounced", "expired"]) {
      for (const route of ["local", "remote"]) expect(zero).toContainEqual({ value: 0, attributes: { outcome, route } });
    }
  });
});

describe("recipientDomain", () => {
  it("lower-cases the domain of the last @", () => {
    expect(recipientDomain('"a@b"@Example.TEST')).toBe("example.test");
    expect(recipientDomain("postmaster")).toBe("unknown");
  });

  it("reports every outcome of each route at 0 before the first failure", () => {
    const zero = new FailureTally().readings();
    expect(zero).toHaveLength(6);
    for (const outcome of ["deferred", "bounced", "expired"]) {
      for (const route of ["local", "remote"]) expect(zero).toContainEqual({ value: 0, attributes: { outcome, route } });
    }
  });
});

describe("FailureTally", () => {
  it("counts deferrals, bounces and expiries by outcome, route, domain and status, and nothing else", () => {
    const tally = new FailureTally();
    tally.add([
      { event: "deferred", detail: "451 4.4.1 refused", route: "remote", recipient: "a@down.test" },
      { event: "delivered", detail: "250 ok", route: "remote", recipient: "b@ok.test" },
      { event: "routed", detail: null, route: "local", recipient: "c@example.test" },
    ]);
    tally.add([
      { event: "deferred", detail: "451 4.4.1 refused", route: "remote", recipient: "z@DOWN.test" },
      { event: "bounced", detail: "550 5.1.1 no such user", route: null, recipient: "x@example.test" },
    ]);
    expect(tally.readings().filter((r) => r.value > 0)).toEqual([
      { value: 2, attributes: { outcome: "deferred", route: "remote", domain: "down.test", status: "4.4.1", status_class: "4" } },
      { value: 1, attributes: { outcome: "bounced", route: "none", domain: "example.test", status: "5.1.1", status_class: "5" } },
    ]);
  });

  it("reports every outcome of each route at 0 before the first failure", () => {
    const zero = new FailureTally().readings();
    expect(zero).toHaveLength(6);
    for (const outcome of ["deferred", "bounced", "expired"]) {
      for (const route of ["local", "remote"]) expect(zero).toContainEqual({ value: 0, attributes: { outcome, route } });
    }
  });
});
