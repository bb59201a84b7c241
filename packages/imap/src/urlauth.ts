/**
 * URLAUTH decisions (RFC 4467): the INTERNAL mechanism's token and who may use a URL.
 * Pure: the key, URL parts and the requesting user in, a verdict out.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { ImapUrl } from "./syntax/imap-url.js";

/** RFC 4467 §7: the one mechanism every URLAUTH server supports; here HMAC-SHA256 of the rump URL with the mailbox access key. */
export const URLAUTH_MECHANISMS = ["INTERNAL"] as const;

/** RFC 4467 §2.2: the token, as 64 lower-case hex digits (the RFC asks for at least 128 bits). */
export function internalToken(key: Buffer, rump: string): string {
  return createHmac("sha256", key).update(rump, "utf8").digest("hex");
}

export type UrlauthVerdict = { allow: true; owner: string } | { allow: false; why: string };

/**
 * RFC 4467 §3 and §7.2: may `requester` fetch this URL? It must be an absolute, authorized
 * URLAUTH URL that has not expired, and its access identifier must admit the requester:
 * `anonymous` anyone, `authuser` any user of this server, `user+name` that user.
 * `submit+name` is only for a submission server acting for name, which no IMAP session is.
 * The owner is the URL's user (a local part at the URL's host is that address).
 */
export function urlauthVerdict(url: ImapUrl, requester: string, now: Date): UrlauthVerdict {
  if (url.user === undefined || url.host === undefined) return { allow: false, why: "a URLAUTH URL is absolute: imap://user@host/…" };
  if (url.access === undefined || url.mechanism === undefined || url.token === undefined) return { allow: false, why: "the URL carries no ;URLAUTH=access:mechanism:token" };
  if (!(URLAUTH_MECHANISMS as readonly string[]).includes(url.mechanism)) return { allow: false, why: `unknown mechanism ${url.mechanism}` };
  if (url.expire && url.expire.getTime() <= now.getTime()) return { allow: false, why: "the URL has expired" };
  const access = url.access.toLowerCase();
  const allowed =
    access === "anonymous" || access === "authuser" || (access.startsWith("user+") && access.slice(5) === requester.toLowerCase());
  if (!allowed) return { allow: false, why: `access ${url.access} does not admit ${requester}` };
  return { allow: true, owner: url.user.includes("@") ? url.user : `${url.user}@${url.host}` };
}

/** Constant-time comparison of a URL's token with the one the key gives. */
export function tokenMatches(key: Buffer, url: ImapUrl): boolean {
  if (!url.token) return false;
  const expected = Buffer.from(internalToken(key, url.rump), "utf8");
  const given = Buffer.from(url.token.toLowerCase(), "utf8");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
