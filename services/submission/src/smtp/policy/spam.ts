import type { HeaderField, SpamDecision } from "@correo/rspamd";
import { replies } from "../replies.js";
import { accept, defer, reject, type Verdict } from "../verdict.js";

/** What the MX does with a message once rspamd has (or has not) scored it. */
export interface SpamVerdict {
  verdict: Verdict;
  /** Accepted, but for the recipients' Junk folder (rspamd's add header / rewrite subject). */
  junk: boolean;
  /** Header edits for an accepted message: take out `removeHeaders`, then put `addHeaders` on top. */
  addHeaders: HeaderField[];
  removeHeaders: string[];
}

/**
 * The end-of-DATA step for the MX (issue 14): reject → 550 5.7.1; soft reject and
 * greylist → 451 4.7.1; add header / rewrite subject → accept into Junk with X-Spam-*
 * headers; no action → accept; no answer → accept unscored, or 451 4.7.1 when failing closed.
 */
export function spamVerdict(decision: SpamDecision): SpamVerdict {
  const none = { junk: false, addHeaders: [], removeHeaders: [] };
  switch (decision.outcome) {
    case "reject":
      return { verdict: reject(replies.spamRejected()), ...none };
    case "defer":
      return { verdict: defer(decision.action === "unchecked" ? replies.spamCheckUnavailable() : replies.spamDeferred()), ...none };
    case "junk":
      return { verdict: accept, junk: true, addHeaders: decision.addHeaders, removeHeaders: decision.removeHeaders };
    case "accept":
      return { verdict: accept, junk: false, addHeaders: decision.addHeaders, removeHeaders: decision.removeHeaders };
  }
}
