import type { LoginOutcome } from "@correo/login-throttle";
import { replies } from "../replies.js";
import { accept, defer, type Verdict } from "../verdict.js";

/**
 * The reply to one AUTH attempt (packages/login-throttle decided the outcome):
 * - the client address is throttled: 454 4.7.0 (RFC 4954 §6), the password unread;
 * - wrong credentials: 535 5.7.8, or 421 and the connection closed once this session
 *   has failed `maxFailuresPerSession` times;
 * - the right password: accepted, whatever other addresses tried for the account.
 */
export function decideAuth(outcome: LoginOutcome<unknown>, sessionFailures: number, maxFailuresPerSession: number): Verdict {
  switch (outcome.outcome) {
    case "ok":
      return accept;
    case "refused":
      return defer(replies.authThrottled(Math.ceil(outcome.retryAfterMs / 1000)));
    case "failed":
      return sessionFailures >= maxFailuresPerSession ? defer(replies.authTooManyInSession()) : { verdict: "reject", reply: replies.authFailed() };
  }
}
