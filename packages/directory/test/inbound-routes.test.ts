import { describe, expect, it } from "vitest";
import { DirectoryError, parseFallback, routeCandidates, routePattern } from "../src/index.js";

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return err instanceof DirectoryError ? { code: err.code, field: err.field, message: err.message } : err;
  }
  throw new Error("not refused");
};

describe("inbound route patterns", () => {
  it("stores an exact address lower-cased, and a wildcard of the domain or a subdomain", () => {
    expect(routePattern("Support@Example.COM", "example.com")).toBe("support@example.com");
    expect(routePattern("*@example.com", "example.com")).toBe("*@example.com");
    expect(routePattern(" *@In.Example.com ", "example.com")).toBe("*@in.example.com");
    expect(routePattern("*@correo.españa.test", "correo.xn--espaa-rta.test")).toBe("*@correo.xn--espaa-rta.test");
  });

  it("refuses patterns of other domains, partial wildcards and non-addresses, naming the pattern field", () => {
    expect(refusal(() => routePattern("*@example.org", "example.com"))).toMatchObject({ code: "invalid", field: "pattern", message: expect.stringMatching(/not an address of example\.com or of a subdomain/) });
    expect(refusal(() => routePattern("*@badexample.com", "example.com"))).toMatchObject({ field: "pattern" });
    expect(refusal(() => routePattern("sup*@example.com", "example.com"))).toMatchObject({ message: expect.stringMatching(/'\*' may only stand for the whole local part/) });
    expect(refusal(() => routePattern("no-at-sign", "example.com"))).toMatchObject({ code: "invalid", field: "pattern" });
    expect(refusal(() => routePattern("*@", "example.com"))).toMatchObject({ message: expect.stringMatching(/is not a domain name/) });
  });

  it("looks up the exact address, then without its +tag, then the domain's wildcard (most specific first)", () => {
    expect(routeCandidates("Support@Example.com")).toEqual(["support@example.com", "*@example.com"]);
    expect(routeCandidates("support+urgent@example.com")).toEqual(["support+urgent@example.com", "support@example.com", "*@example.com"]);
    expect(routeCandidates("x@in.example.com")).toEqual(["x@in.example.com", "*@in.example.com"]);
    expect(routeCandidates("not an address")).toEqual([]);
  });

  it("reads the fallback as 'bounce' or 'mailbox:<address>'", () => {
    expect(parseFallback("bounce")).toEqual({ kind: "bounce" });
    expect(parseFallback("mailbox:Help@Example.com")).toEqual({ kind: "mailbox", address: "Help@example.com" });
    expect(parseFallback("mailbox:")).toBeUndefined();
    expect(parseFallback("forward:x@y.test")).toBeUndefined();
  });
});
