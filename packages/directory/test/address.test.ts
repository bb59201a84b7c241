import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { addressKey, domainUnicode, normalizeDomain, parseAddress, parseMailbox, splitSubaddress, unroutable, type Mailbox } from "../src/index.js";

function parseMailboxOk(text: string): Mailbox {
  const r = parseMailbox(text);
  if (!r.ok) throw new Error(r.reason);
  return r.mailbox;
}

describe("parseAddress", () => {
  it("keeps the local part as written and lower-cases the domain", () => {
    expect(parseAddress("Alice.Smith@Example.TEST")).toEqual({ localPart: "Alice.Smith", domain: "example.test" });
  });

  it("refuses quoted local parts, which can hide an @ (a relay trick)", () => {
    expect(parseAddress('"a@b"@example.test')).toBeUndefined();
  });

  it("turns IDN domains into their A-label form, and back for people", () => {
    expect(parseAddress("josé@correo.españa.test")?.domain).toBe("correo.xn--espaa-rta.test");
    expect(parseAddress("josé@correo.xn--espaa-rta.test")?.domain).toBe("correo.xn--espaa-rta.test");
    expect(domainUnicode("correo.xn--espaa-rta.test")).toBe("correo.españa.test");
  });

  it("keeps SMTPUTF8 local parts (RFC 6531) as written", () => {
    expect(parseAddress("Σωκράτης@example.test")).toEqual({ localPart: "Σωκράτης", domain: "example.test" });
  });

  it("refuses what is not an address, and never repairs one into another", () => {
    for (const bad of ["", "alice", "@example.test", "alice@", "a b@example.test", "alice@-bad-.test",
      ".alice@example.test", "alice.@example.test", "a..b@example.test", "alice@example.test.", "\u007f@example.test",
      'alice"x"@example.test', "a".repeat(65) + "@example.test"]) {
      expect(parseAddress(bad), bad).toBeUndefined();
    }
  });

  it("takes single-label and numeric top-level domains (RFC 5321 syntax), as the directory cannot host them", () => {
    expect(parseAddress("alice@localhost")).toEqual({ localPart: "alice", domain: "localhost" });
    expect(parseAddress("test@io")).toEqual({ localPart: "test", domain: "io" });
    expect(parseAddress("test@iana.123")).toEqual({ localPart: "test", domain: "iana.123" });
    expect(normalizeDomain("io")).toBeUndefined();
    expect(normalizeDomain("Example.TEST.")).toBe("example.test");
  });

  it("refuses address literals and quoted local parts by policy: valid, but not routed", () => {
    expect(parseAddress("alice@[192.0.2.1]")).toBeUndefined();
    expect(parseAddress('"alice"@example.test')).toBeUndefined();
    expect(unroutable(parseMailboxOk("alice@[192.0.2.1]"))).toMatch(/address literal/);
    expect(unroutable(parseMailboxOk('"a b"@example.test'))).toMatch(/quoted local part/);
    expect(unroutable(parseMailboxOk("alice@example.test"))).toBeUndefined();
  });

  it("never throws on arbitrary input", () => {
    fc.assert(fc.property(fc.string(), (s) => void parseAddress(s)));
    fc.assert(fc.property(fc.string(), (s) => void normalizeDomain(s)));
  });
});

describe("address comparison", () => {
  it("is case-insensitive in the local part and label-form-insensitive in the domain", () => {
    expect(addressKey("Alice@Example.TEST")).toBe(addressKey("alice@example.test"));
    expect(addressKey("JOSÉ@españa.test")).toBe(addressKey("josé@xn--espaa-rta.test"));
    expect(addressKey("alice+x@example.test")).not.toBe(addressKey("alice@example.test"));
  });

  it("splits a +tag off the local part (plus-addressing)", () => {
    expect(splitSubaddress("alice+news")).toEqual({ base: "alice", tag: "news" });
    expect(splitSubaddress("alice+a+b")).toEqual({ base: "alice", tag: "a+b" });
    expect(splitSubaddress("+alice")).toEqual({ base: "+alice", tag: undefined });
    expect(splitSubaddress("alice")).toEqual({ base: "alice", tag: undefined });
  });

  it("compares keys equal exactly when the lower-cased addresses are equal (property)", () => {
    const local = fc.stringMatching(/^[A-Za-z0-9.+_-]{1,20}$/);
    fc.assert(
      fc.property(local, (l) => {
        expect(addressKey(`${l}@Example.Test`)).toBe(addressKey(`${l.toUpperCase()}@example.test`));
      }),
    );
  });
});
