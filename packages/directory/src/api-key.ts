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

export function newApiKeyToken(): ApiKeyToken & { token: string } {
  const keyId = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { keyId, secret, token: `correo_${keyId}_${secret}` };
}

export function parseApiKeyToken(token: string): ApiKeyToken | undefined {
  const m = /^correo_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token.trim());
  return m ? { keyId: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}
