import { srsForward, type SrsOptions } from "@correo/srs";

/**
 * The reverse-path of a delivery an alias sends on to an address not hosted here, pure.
 * Relayed with the original sender it fails SPF at the next hop (RFC 7208 §1.2: SPF
 * authorizes the host for the MAIL FROM domain, and we are not the sender's host), so it
 * gets an SRS address of SRS_DOMAIN — except the null path (RFC 5321 §4.5.5: a bounce
 * keeps `<>`, so that nobody bounces a bounce), a sender of a domain hosted here (we are
 * its host already), or when SRS is off.
 */
export type ForwardSender = { kind: "keep"; why: string } | { kind: "rewrite"; envelopeFrom: string };

export interface ForwardFacts {
  /** The message's envelope sender, "" for `<>`. */
  sender: string;
  /** Whether the sender's domain is hosted here (domain aliases included). */
  senderHosted: boolean;
  /** SRS_SECRETS and SRS_DOMAIN; undefined while SRS is off. */
  srs: SrsOptions | undefined;
  now: Date;
}

export function forwardSender(f: ForwardFacts): ForwardSender {
  if (!f.srs) return { kind: "keep", why: "SRS is off" };
  if (f.sender === "") return { kind: "keep", why: "null sender <>" };
  if (f.senderHosted) return { kind: "keep", why: "sender is hosted here" };
  const rewritten = srsForward(f.sender, f.srs, f.now);
  if (!rewritten.ok) return { kind: "keep", why: `<${f.sender}> ${rewritten.detail}` };
  return rewritten.address === f.sender ? { kind: "keep", why: "sender is of the SRS domain" } : { kind: "rewrite", envelopeFrom: rewritten.address };
}
