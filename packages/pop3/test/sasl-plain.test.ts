import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodePlain } from "../src/sasl-plain.js";
import { isLoopback, plaintextAuthAllowed } from "../src/auth-policy.js";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

describe("SASL PLAIN decoding (RFC 4616 §2)", () => {
  it("splits authzid NUL authcid NUL password", () => {
    expect(decodePlain(b64("\0ana@example.test\0secret"))).toEqual({
      ok: true,
      credentials: { authzid: "", authcid: "ana@example.test", password: "secret" },
    });
    expect(decodePlain(b64("ana@example.test\0ana@example.test\0pässwörd con espacios"))).toEqual({
      ok: true,
      credentials: { authzid: "ana@example.test", authcid: "ana@example.test", password: "pässwörd con espacios" },
    });
  });

  it("refuses bad base64, a wrong number of fields, empty names or passwords, and non-UTF-8", () => {
    expect(decodePlain("not base64!")).toMatchObject({ ok: false, error: "invalid base64 in the SASL response" });
    expect(decodePlain("AGFuYQBzZWNyZXQ")).toMatchObject({ ok: false }); // unpadded
    expect(decodePlain(b64("ana\0secret"))).toMatchObject({ ok: false });
    expect(decodePlain(b64("\0\0secret"))).toMatchObject({ ok: false });
    expect(decodePlain(b64("\0ana\0"))).toMatchObject({ ok: false });
    expect(decodePlain(b64("\0a\0b\0c"))).toMatchObject({ ok: false });
    expect(decodePlain(Buffer.from([0, 0x61, 0, 0xff, 0xfe]).toString("base64"))).toMatchObject({ ok: false, error: "the PLAIN response is not UTF-8" });
    expect(decodePlain("=")).toMatchObject({ ok: false }); // the empty initial response carries no credentials
  });

  it("round-trips any identities and passwords without NUL (property)", () => {
    const part = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).filter((s) => !s.includes("\0") && Buffer.byteLength(s) <= 255);
    fc.assert(
      fc.property(fc.option(part, { nil: "" }), part, part, (authzid, authcid, password) => {
        const r = decodePlain(b64(`${authzid}\0${authcid}\0${password}`));
        expect(r).toEqual({ ok: true, credentials: { authzid, authcid, password } });
      }),
    );
  });

  it("never throws on arbitrary input (property)", () => {
    fc.assert(fc.property(fc.string(), (s) => void decodePlain(s)));
    fc.assert(fc.property(fc.uint8Array(), (a) => void decodePlain(Buffer.from(a).toString("base64"))));
  });
});

describe("plaintext-authentication policy (RFC 2595 §2.2)", () => {
  it("knows loopback addresses, IPv4, IPv6 and IPv4-mapped", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(a)).toBe(true);
    for (const a of ["10.0.0.1", "192.168.1.1", "::ffff:10.0.0.1", "fe80::1", "::", undefined]) expect(isLoopback(a)).toBe(false);
  });

  it("allows passwords in the clear from loopback only by default, never with 'never', always with 'always'", () => {
    expect(plaintextAuthAllowed("loopback", "127.0.0.1")).toBe(true);
    expect(plaintextAuthAllowed("loopback", "172.17.0.1")).toBe(false);
    expect(plaintextAuthAllowed("never", "127.0.0.1")).toBe(false);
    expect(plaintextAuthAllowed("always", "203.0.113.9")).toBe(true);
  });
});
