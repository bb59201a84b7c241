import type { TrustDecision } from "@correo/trust";
import { replies } from "../replies.js";
import { accept, defer, reject, type Verdict } from "../verdict.js";

/**
 * The end-of-DATA verdict of the MX's authentication checks (issue 14): packages/trust
 * decides (decideTrust), this turns the decision into the SMTP reply. A junk decision is
 * accepted (250) and filed in Junk by routing; a content check beside it (rspamd) adds
 * its own verdict function here and the transaction takes the strictest.
 */
export function trustVerdict(decision: TrustDecision): Verdict {
  switch (decision.action) {
    case "reject":
      return reject(replies.authenticationRefused(decision.reason));
    case "defer":
      return defer(replies.authenticationDeferred(decision.reason));
    case "junk":
    case "accept":
      return accept;
  }
}
