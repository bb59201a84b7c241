import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../src/index.js";
import { hashSecret, newApiKeyToken, parseApiKeyToken, secretMatches } from "../src/api-key.js";

describe("passwords", () => {
  it("are stored as salted scrypt hashes and verified", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horsE", a)).toBe(false);
    expect(await verifyPassword("x", "not-a-hash")).toBe(false);
  });
});

describe("API key tokens", () => {
  it("parse back into their id and secret, and only the right secret matches", () => {
    const { token, keyId, secret } = newApiKeyToken();
    expect(parseApiKeyToken(token)).toEqual({ keyId, secret });
    const stored = hashSecret(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A"), stored)).toBe(false);
  });

  it("refuse malformed tokens", () => {
    expect(parseApiKeyToken("correo_123_abc")).toBeUndefined();
    expect(parseApiKeyToken("Bearer something")).toBeUndefined();
  });
});
