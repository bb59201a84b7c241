import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { normalizeDomain, parseAddress } from "../src/index.js";

describe("parseAddress", () => {
  it("keeps the local part as written and lower-cases the domain", () => {
    expect(parseAddress("Alice.Smith@Example.TEST")).toEqual({ localPart: "Alice.Smith", domain: "example.test" });
  });

  it("refuses quoted local parts, which can hide an @ (a relay trick)", () => {
    expect(parseAddress('"a@b"@example.test')).toBeUndefined();
  });

  it("turns IDN domains into their A-label form", () => {
    expect(parseAddress("josé@correo.españa.test")?.domain).toBe("correo.xn--espaa-rta.test");
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
