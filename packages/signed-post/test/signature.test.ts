import { describe, expect, it } from "vitest";
import { signatureHeader, verifySignature } from "../src/index.js";

const body = JSON.stringify({ id: "evt_1", type: "delivered" });
const at = new Date("2026-12-02T12:00:00Z");

describe("Correo-Signature", () => {
  it("verifies a body signed with the endpoint's secret within the tolerance window", () => {
    const header = signatureHeader("whsec_a", body, at);
    expect(header).toMatch(/^t=1796212800,v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, "whsec_a", body, new Date(at.getTime() + 299_000))).toEqual({ valid: true, timestamp: 1796212800 });
  });

  it("refuses another secret, a changed body and a replay outside the window", () => {
    const header = signatureHeader("whsec_a", body, at);
    expect(verifySignature(header, "whsec_b", body, at)).toEqual({ valid: false, reason: "no-match" });
    expect(verifySignature(header, "whsec_a", body + " ", at)).toEqual({ valid: false, reason: "no-match" });
    expect(verifySignature(header, "whsec_a", body, new Date(at.getTime() + 301_000))).toEqual({ valid: false, reason: "outside-tolerance" });
  });

  it("accepts any of the v1 signatures of a secret rotation", () => {
    const header = signatureHeader(["whsec_new", "whsec_old"], body, at);
    expect(verifySignature(header, "whsec_old", body, at).valid).toBe(true);
    expect(verifySignature(header, "whsec_new", body, at).valid).toBe(true);
  });

  it.each([undefined, "", "v1=abc", "t=x,v1=" + "0".repeat(64), "t=1796212800", "garbage"])("calls %j malformed", (header) => {
    expect(verifySignature(header, "whsec_a", body, at)).toEqual({ valid: false, reason: "malformed" });
  });
});
