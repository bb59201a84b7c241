import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API keys are `correo_<keyId>_<secret>`: the key id finds the row, the secret is
 * 32 random bytes whose SHA-256 is stored. A fast hash is enough for a random secret
 * of that length (unlike passwords, it cannot be guessed from a dictionary).
 */
export interface ApiKeyToken {
  keyId: string;
  secret: string;
}

/** `correo_…` sends mail for one domain; `correoadmin_…` manages the directory (admin API). */
export type TokenKind = "correo" | "correoadmin";

export function newApiKeyToken(kind: TokenKind = "correo"): ApiKeyToken & { token: string } {
  const keyId = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { keyId, secret, token: `${kind}_${keyId}_${secret}` };
}

export function parseApiKeyToken(token: string, kind: TokenKind = "correo"): ApiKeyToken | undefined {
  const m = /^([a-z]+)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token.trim());
  return m && m[1] === kind ? { keyId: m[2]!, secret: m[3]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
