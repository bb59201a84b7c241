import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { stripForgedResults } from "../src/index.js";

const msg = (header: string, body = "Body\r\n") => Buffer.from(`${header}\r\n${body}`, "latin1");

describe("stripForgedResults (RFC 8601 §5)", () => {
  it("removes every Authentication-Results that claims our authserv-id, folded lines included", () => {
    const raw = msg(
      "Authentication-Results: mx.correo.test; dmarc=pass\r\n header.from=bank.test\r\n" +
        "Authentication-Results: (forged) MX.Correo.Test 1; spf=pass\r\n" +
        'Authentication-Results: "mx.correo.test"; dkim=pass\r\n' +
        "From: <a@bank.test>\r\nSubject: x\r\n",
    );
    const out = stripForgedResults(raw, "mx.correo.test");
    expect(out.removed).toBe(3);
    expect(out.raw.toString()).toBe("From: <a@bank.test>\r\nSubject: x\r\n\r\nBody\r\n");
  });

  it("keeps other hosts' results, ARC-Authentication-Results and the body", () => {
    const header =
      "Authentication-Results: mx.other.test; spf=pass\r\n" +
      "ARC-Authentication-Results: i=1; mx.correo.test; dmarc=pass\r\n" +
      "Authentication-Results: mx.correo.test.evil; dkim=pass\r\nFrom: <a@b.test>\r\n";
    const body = "Authentication-Results: mx.correo.test; in the body stays\r\n";
    const raw = msg(header, body);
    const out = stripForgedResults(raw, "mx.correo.test");
    expect(out.removed).toBe(0);
    expect(out.raw).toBe(raw);
  });

  it("never grows a message and leaves it unchanged when nothing claims our id (property)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const raw = Buffer.from(s, "latin1");
        const out = stripForgedResults(raw, "mx.correo.test");
        expect(out.raw.length).toBeLessThanOrEqual(raw.length);
        if (!/authentication-results/i.test(s)) expect(out.raw.equals(raw)).toBe(true);
      }),
    );
  });
});
