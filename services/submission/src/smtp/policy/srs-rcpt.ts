import { srsReverse, type SrsOptions } from "@correo/srs";
import { replies } from "../replies.js";
import { accept, reject, type Verdict } from "../verdict.js";

/**
 * RCPT TO an SRS address of SRS_DOMAIN (a bounce coming back for mail an alias forwarded,
 * packages/srs), pure. Undefined when SRS is off or the address is not an SRS one of
 * ours: the directory decides then. A valid hash within the age limit is accepted and
 * routed to the address it encodes (the original sender, or for SRS1 the first
 * forwarder's SRS0 address) — a remote delivery that the hash authorizes, so no open
 * relay. A forged or expired one is refused with its reason.
 */
export type SrsRecipient = { verdict: Verdict; outcome: "accepted" | "forged" | "expired" | "malformed"; routeTo?: string };

export function decideSrsRecipient(address: string, srs: SrsOptions | undefined, now: Date): SrsRecipient | undefined {
  if (!srs) return undefined;
  const result = srsReverse(address, srs, now);
  if (result.ok) return { verdict: accept, outcome: "accepted", routeTo: result.address };
  switch (result.reason) {
    case "not-srs":
      return undefined;
    case "forged":
      return { outcome: "forged", verdict: reject(replies.srsRefused(address, "forged", "its hash was not made with this server's secrets")) };
    case "expired":
      return { outcome: "expired", verdict: reject(replies.srsRefused(address, "expired", `it ${result.detail}`)) };
    case "malformed":
      return { outcome: "malformed", verdict: reject(replies.srsRefused(address, "malformed", `it ${result.detail}`)) };
  }
}
