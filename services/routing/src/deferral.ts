/**
 * When routing cannot decide now (a temporary DNS failure), the recipient is deferred
 * and routed again later: delays double from RELAY_MIN_BACKOFF up to RELAY_MAX_BACKOFF
 * (RFC 5321 §4.5.4.1 asks for at least 30 minutes between tries to one host; DNS is a
 * cheaper question, so the relay's shorter first retry applies) until
 * RELAY_MAX_LIFETIME after acceptance, when it expires (RFC 3463 X.4.7).
 */
export interface DeferralPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
  maxLifetimeMs: number;
}

export type AfterDeferral = { kind: "retry"; at: Date } | { kind: "expire" };

/** `deferrals` is how many times this recipient was deferred before (0 the first time). */
export function afterDeferral(now: Date, acceptedAt: Date, deferrals: number, policy: DeferralPolicy): AfterDeferral {
  const lifetimeEnd = acceptedAt.getTime() + policy.maxLifetimeMs;
  if (now.getTime() >= lifetimeEnd) return { kind: "expire" };
  const delay = Math.min(policy.minBackoffMs * 2 ** Math.min(deferrals, 30), policy.maxBackoffMs);
  return { kind: "retry", at: new Date(Math.min(now.getTime() + delay, lifetimeEnd)) };
}
