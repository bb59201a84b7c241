/**
 * Where a password may cross the wire in the clear. RFC 2595 §2.2 asks clients not to
 * send one unprotected; the server's side of it is this policy (POP3_PLAINTEXT_AUTH):
 *
 * - `loopback` (default): without TLS only from 127.0.0.0/8 or ::1, where nothing is on
 *   the wire; everyone else uses STLS or POP3S first (Dovecot's `disable_plaintext_auth`);
 * - `never`: TLS always first;
 * - `always`: USER/PASS and AUTH PLAIN on any connection (a TLS-terminating proxy in front).
 */
import { isIP } from "node:net";

export const plaintextAuthPolicies = ["loopback", "never", "always"] as const;
export type PlaintextAuthPolicy = (typeof plaintextAuthPolicies)[number];

/** True when `address` (as Node reports a peer: IPv4, IPv6 or IPv4-mapped IPv6) is a loopback address. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith("127.");
  return address === "::1";
}

/** Whether USER/PASS and AUTH PLAIN are allowed before TLS on a connection from `remoteAddress`. */
export function plaintextAuthAllowed(policy: PlaintextAuthPolicy, remoteAddress: string | undefined): boolean {
  if (policy === "always") return true;
  if (policy === "never") return false;
  return isLoopback(remoteAddress);
}
