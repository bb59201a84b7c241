import { describe, expect, it } from "vitest";
import { signLink, verifyLink } from "../src/index.js";

const secret = "whsec_test_secret_of_the_route_000000";
const path = "/v1/inbound-routes/r/deliveries/d/attachments/1";
const now = new Date("2026-12-02T14:00:00Z");
const query = (q: string) => Object.fromEntries(new URLSearchParams(q)) as { expires: string; signature: string };

describe("signed attachment links", () => {
  it("are valid until they expire, then refused as expired", () => {
    const q = query(signLink(secret, path, new Date(now.getTime() + 60_000)));
    expect(verifyLink(secret, path, q.expires, q.signature, now)).toEqual({ valid: true });
    expect(verifyLink(secret, path, q.expires, q.signature, new Date(now.getTime() + 61_000))).toEqual({ valid: false, reason: "expired" });
  });

  it("refuses another path, a moved expiry, another secret and missing parameters", () => {
    const q = query(signLink(secret, path, new Date(now.getTime() + 60_000)));
    expect(verifyLink(secret, path.replace(/1$/, "2"), q.expires, q.signature, now)).toEqual({ valid: false, reason: "no-match" });
    expect(verifyLink(secret, path, String(Number(q.expires) + 3600), q.signature, now)).toEqual({ valid: false, reason: "no-match" });
    expect(verifyLink("another secret", path, q.expires, q.signature, now)).toEqual({ valid: false, reason: "no-match" });
    expect(verifyLink(secret, path, undefined, q.signature, now)).toEqual({ valid: false, reason: "malformed" });
    expect(verifyLink(secret, path, q.expires, "zz", now)).toEqual({ valid: false, reason: "malformed" });
  });
});
