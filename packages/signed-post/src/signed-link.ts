import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Links Correo hands out inside a signed POST (an inbound route's attachments too big
 * to inline): `<path>?expires=<unix seconds>&signature=<hex HMAC-SHA256>` over
 * `<expires>.<path>`, keyed by the same secret as the POST, so the receiver's secret
 * is the only key and rotating it revokes the links. The server tells a tampered link
 * (403) from an expired one (410).
 */
export function linkSignature(secret: string, path: string, expires: number): string {
  return createHmac("sha256", secret).update(`link.${expires}.`).update(path).digest("hex");
}

/** The query string (without `?`) that makes `path` fetchable until `expiresAt`. */
export function signLink(secret: string, path: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `expires=${expires}&signature=${linkSignature(secret, path, expires)}`;
}

export type LinkCheck = { valid: true } | { valid: false; reason: "malformed" | "no-match" | "expired" };

/** The signature is checked before the time, so an altered `expires` is "no-match", not "expired". */
export function verifyLink(secret: string, path: string, expires: string | undefined, signature: string | undefined, now: Date): LinkCheck {
  if (!expires || !/^\d{1,12}$/.test(expires) || !signature || !/^[0-9a-f]{64}$/.test(signature)) return { valid: false, reason: "malformed" };
  const expected = Buffer.from(linkSignature(secret, path, Number(expires)), "hex");
  if (!timingSafeEqual(Buffer.from(signature, "hex"), expected)) return { valid: false, reason: "no-match" };
  if (now.getTime() / 1000 > Number(expires)) return { valid: false, reason: "expired" };
  return { valid: true };
}
