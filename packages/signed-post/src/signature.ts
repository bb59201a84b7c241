import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How Correo signs what it POSTs to its users' endpoints (webhooks, inbound routes), in
 * the shape Stripe uses: `Correo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `<t>.<raw body>`, keyed by the endpoint's secret. The timestamp is inside the MAC, so a
 * receiver that checks it against its clock (a tolerance window) refuses a replay of an
 * old request. During a secret rotation the header carries one v1 per secret.
 */
export const SIGNATURE_HEADER = "correo-signature";
/** Receivers refuse a signature older (or newer) than this by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/** The header value for `body` sent at `now`, signed with every secret given (newest first). */
export function signatureHeader(secrets: string | readonly string[], body: string | Buffer, now: Date): string {
  const timestamp = Math.floor(now.getTime() / 1000);
  const list = typeof secrets === "string" ? [secrets] : secrets;
  return [`t=${timestamp}`, ...list.map((s) => `v1=${signatureOf(s, timestamp, body)}`)].join(",");
}

export type SignatureCheck =
  | { valid: true; timestamp: number }
  | { valid: false; reason: "malformed" | "no-match" | "outside-tolerance" };

/** What a receiver does: parse the header, check the window, compare in constant time. */
export function verifySignature(
  header: string | undefined,
  secret: string,
  body: string | Buffer,
  now: Date,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return { valid: false, reason: "malformed" };
  let timestamp: number | undefined;
  const macs: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 1) return { valid: false, reason: "malformed" };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") timestamp = /^\d{1,12}$/.test(value) ? Number(value) : undefined;
    else if (key === "v1" && /^[0-9a-f]{64}$/.test(value)) macs.push(value);
  }
  if (timestamp === undefined || macs.length === 0) return { valid: false, reason: "malformed" };
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return { valid: false, reason: "outside-tolerance" };
  const expected = Buffer.from(signatureOf(secret, timestamp, body), "hex");
  const match = macs.some((mac) => timingSafeEqual(Buffer.from(mac, "hex"), expected));
  return match ? { valid: true, timestamp } : { valid: false, reason: "no-match" };
}
