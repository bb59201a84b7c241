/**
 * How failed logins are answered, as pure functions (the Redis counting is in
 * throttle.ts). Two separate defences, so that nobody can lock an account out:
 *
 * - per client address: past `maxFailuresPerAddress` failures within `windowMs` (a
 *   window that restarts at each failure) that address is refused before any password
 *   is looked at, until the window passes; other addresses are not affected;
 * - per account name: each failure is answered later than the one before (Dovecot's
 *   auth penalty): 0, base, 2·base, 4·base … up to `penaltyMaxMs`. The right password
 *   is never refused and never delayed by it, from whichever address.
 */

export interface LoginThrottleLimits {
  /** Failed logins from one client address (IPv6: one /64) before that address is refused. */
  maxFailuresPerAddress: number;
  /** How long a failure counts: each counter expires this long after its last failure. */
  windowMs: number;
  /** Delay of an account's second failure; each later one doubles it. 0: no delays. */
  penaltyBaseMs: number;
  /** The longest delay. */
  penaltyMaxMs: number;
}

export const DEFAULT_LOGIN_THROTTLE_LIMITS: LoginThrottleLimits = {
  maxFailuresPerAddress: 10,
  windowMs: 15 * 60_000,
  penaltyBaseMs: 500,
  penaltyMaxMs: 15_000,
};

/** Before the password is checked: go ahead, or refuse the client address for `retryAfterMs`. */
export type LoginGate = { verdict: "check" } | { verdict: "refuse"; retryAfterMs: number };

/** What one login attempt came to; each protocol turns it into its reply. */
export type LoginOutcome<T> =
  | { outcome: "ok"; account: T }
  /** Wrong name or password; the penalty delay has been waited already. */
  | { outcome: "failed"; delayMs: number }
  /** The client address is throttled; the password was not looked at. */
  | { outcome: "refused"; retryAfterMs: number };

/** `failuresByAddress` counted within the window (not yet this attempt) → the gate. */
export function decideLoginAttempt(failuresByAddress: number, remainingWindowMs: number, limits: LoginThrottleLimits): LoginGate {
  if (failuresByAddress < limits.maxFailuresPerAddress) return { verdict: "check" };
  return { verdict: "refuse", retryAfterMs: remainingWindowMs > 0 ? remainingWindowMs : limits.windowMs };
}

/**
 * The delay before answering an account's `failures`-th failure within the window
 * (this one included): the first is answered at once, then base · 2^(n-2), capped.
 */
export function penaltyDelayMs(failures: number, limits: LoginThrottleLimits): number {
  if (failures <= 1 || limits.penaltyBaseMs <= 0) return 0;
  // 2^30 · base overflows nothing in doubles and is far past any cap.
  const delay = limits.penaltyBaseMs * 2 ** Math.min(failures - 2, 30);
  return Math.min(delay, limits.penaltyMaxMs);
}

/** The limits from the AUTH_* settings (packages/config, loginThrottleSpec). */
export function loginThrottleLimits(config: { authMaxFailuresPerIp: number; authFailureWindow: number; authPenaltyBase: number; authPenaltyMax: number }): LoginThrottleLimits {
  return {
    maxFailuresPerAddress: config.authMaxFailuresPerIp,
    windowMs: config.authFailureWindow,
    penaltyBaseMs: config.authPenaltyBase,
    penaltyMaxMs: config.authPenaltyMax,
  };
}
