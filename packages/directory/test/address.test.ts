import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { addressKey, domainUnicode, normalizeDomain, parseAddress, splitSubaddress } from "../src/index.js";

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

  it("refuses what is not an address", () => {
    for (const bad of ["", "alice", "@example.test", "alice@", "alice@localhost", "a b@example.test", "alice@-bad-.test"]) {
      expect(parseAddress(bad), bad).toBeUndefined();
    }
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
