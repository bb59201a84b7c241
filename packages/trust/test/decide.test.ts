import { describe, expect, it } from "vitest";
import { decideTrust, strictestMode, type InboundAuth, type MethodResult, type TrustMode } from "../src/index.js";

function auth(o: { spf?: MethodResult; dmarc?: MethodResult; policy?: "none" | "quarantine" | "reject"; dkim?: MethodResult; override?: boolean; parsed?: boolean }): InboundAuth {
  return {
    parsed: o.parsed ?? true,
    spf: { result: o.spf ?? "none", domain: "sender.test" },
    spfHelo: null,
    dkim: o.dkim ? [{ result: o.dkim, domain: "sender.test", selector: "s1", aligned: true }] : [],
    dmarc: { result: o.dmarc ?? "none", domain: "sender.test", ...(o.policy ? { policy: o.policy } : {}) },
    arc: { result: o.override ? "pass" : "none" },
    ...(o.override ? { arcOverride: { sealer: "list.test" } } : {}),
    iprev: { result: "pass", ip: "192.0.2.1", comment: "" },
  };
}

type Row = [string, Parameters<typeof auth>[0], Record<TrustMode, "accept" | "junk" | "reject" | "defer">];

// Issue 14 item 2 as a table: what each mode does with each outcome of the checks.
const table: Row[] = [
  ["DMARC pass", { dmarc: "pass", policy: "reject", spf: "fail" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["DMARC fail, p=reject", { dmarc: "fail", policy: "reject", spf: "fail" }, { enforce: "reject", "quarantine-only": "junk", "report-only": "accept" }],
  ["DMARC fail, p=quarantine", { dmarc: "fail", policy: "quarantine" }, { enforce: "junk", "quarantine-only": "junk", "report-only": "accept" }],
  ["DMARC fail, p=none", { dmarc: "fail", policy: "none", spf: "fail" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["no DMARC record, SPF -all fail", { dmarc: "none", spf: "fail" }, { enforce: "reject", "quarantine-only": "junk", "report-only": "accept" }],
  ["no DMARC record, SPF ~all softfail", { dmarc: "none", spf: "softfail" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["no DMARC record, no SPF", { dmarc: "none", spf: "none" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["DMARC temperror", { dmarc: "temperror" }, { enforce: "defer", "quarantine-only": "defer", "report-only": "accept" }],
  ["no DMARC record, SPF temperror", { dmarc: "none", spf: "temperror" }, { enforce: "defer", "quarantine-only": "defer", "report-only": "accept" }],
  ["DMARC fail p=reject, aligned DKIM temperror", { dmarc: "fail", policy: "reject", dkim: "temperror" }, { enforce: "defer", "quarantine-only": "defer", "report-only": "accept" }],
  ["DMARC pass, SPF temperror (the verdict does not depend on it)", { dmarc: "pass", spf: "temperror" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["DMARC fail p=reject, trusted ARC says pass", { dmarc: "fail", policy: "reject", override: true }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["DMARC permerror, SPF fail", { dmarc: "permerror", spf: "fail" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
  ["header not parsable", { parsed: false, spf: "fail", dmarc: "fail", policy: "reject" }, { enforce: "accept", "quarantine-only": "accept", "report-only": "accept" }],
];

describe("decideTrust", () => {
  for (const [name, facts, expected] of table) {
    for (const mode of ["enforce", "quarantine-only", "report-only"] as const) {
      it(`${name}: ${mode} → ${expected[mode]}`, () => {
        expect(decideTrust(auth(facts), mode).action).toBe(expected[mode]);
      });
    }
  }

  it("names the basis of each verdict for the metrics", () => {
    expect(decideTrust(auth({ dmarc: "fail", policy: "reject" }), "enforce").basis).toBe("dmarc-reject");
    expect(decideTrust(auth({ dmarc: "none", spf: "fail" }), "enforce").basis).toBe("spf-fail");
    expect(decideTrust(auth({ dmarc: "fail", policy: "reject", override: true }), "enforce").basis).toBe("arc-override");
    expect(decideTrust(auth({ dmarc: "temperror" }), "enforce").basis).toBe("temperror");
  });

  it("cites the RFC section in the reason of a refusal", () => {
    expect(decideTrust(auth({ dmarc: "fail", policy: "reject" }), "enforce").reason).toMatch(/RFC 7489 §6\.6\.2/);
    expect(decideTrust(auth({ dmarc: "none", spf: "fail" }), "enforce").reason).toMatch(/RFC 7208 §8\.4/);
  });
});

describe("strictestMode", () => {
  it("takes the strictest of several recipient domains, the default when none says", () => {
    expect(strictestMode(["report-only", "enforce", "quarantine-only"], "report-only")).toBe("enforce");
    expect(strictestMode(["report-only", "quarantine-only"], "enforce")).toBe("quarantine-only");
    expect(strictestMode([], "quarantine-only")).toBe("quarantine-only");
  });
});
