import { replies } from "../replies.js";
import { accept, defer, type Verdict } from "../verdict.js";

export interface AuthLimits {
  maxFailuresPerIp: number;
  maxFailuresPerAccount: number;
  /** Failed attempts one connection may make before it is closed. */
  maxFailuresPerSession: number;
}

export interface AuthCounters {
  failuresByIp: number;
  failuresByAccount: number;
}

/**
 * Whether an AUTH attempt may be checked at all. A client address or an account with
 * too many recent failures is refused with 454 4.7.0 (RFC 4954 §6) before the
 * password is looked at, so a brute force learns nothing more, even with the right
 * password, until the window passes.
 */
export function decideAuthAttempt(counters: AuthCounters, limits: AuthLimits): Verdict {
  if (counters.failuresByIp >= limits.maxFailuresPerIp || counters.failuresByAccount >= limits.maxFailuresPerAccount) {
    return defer(replies.authLockedOut());
  }
  return accept;
}

/** After a failed attempt: 535 5.7.8, or 421 and the connection closed once the session has failed too often. */
export function afterAuthFailure(sessionFailures: number, limits: AuthLimits): Verdict {
  return sessionFailures >= limits.maxFailuresPerSession
    ? defer(replies.authTooManyInSession())
    : { verdict: "reject", reply: replies.authFailed() };
}
