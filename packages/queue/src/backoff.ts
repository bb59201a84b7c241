/**
 * Retry schedule, pure: the one back-off of every deferral, the relay's (4xx replies,
 * connection failures, parked destinations) and routing's (a DNS temporary failure).
 * RFC 5321 §4.5.4.1: retry after a delay that grows, and give up only after a long
 * lifetime (the RFC suggests at least 4-5 days). As Postfix does, the delay starts near
 * RELAY_MIN_BACKOFF and doubles with each failed attempt up to RELAY_MAX_BACKOFF. Jitter
 * spreads retries so that many deliveries deferred together (a destination that was
 * down) do not all come back in the same second.
 */
export interface BackoffPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
}

/** Jitter is ±JITTER of the nominal delay. */
export const JITTER = 0.2;

/** A source of numbers in [0, 1), like Math.random; injected so that tests choose it. */
export type Random = () => number;

/** Nominal delay after `attempts` failed attempts (1 → min, 2 → 2·min, … capped at max). */
export function nominalDelayMs(attempts: number, policy: BackoffPolicy): number {
  const n = Math.max(1, Math.floor(attempts));
  // 2^(n-1) overflows to Infinity for huge n; Math.min caps it at max anyway.
  return Math.min(policy.minBackoffMs * 2 ** (n - 1), policy.maxBackoffMs);
}

/** Jittered delay: nominal · (1 ± JITTER), never above RELAY_MAX_BACKOFF. */
export function retryDelayMs(attempts: number, policy: BackoffPolicy, random: Random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  const jittered = nominalDelayMs(attempts, policy) * (1 + JITTER * (2 * r - 1));
  return Math.round(Math.min(jittered, policy.maxBackoffMs));
}

/**
 * When the next attempt is due, never past the end of the lifetime: the last attempt
 * happens at the lifetime's end, and a failure then expires the delivery.
 */
export function nextAttemptAt(now: Date, attempts: number, lifetimeEnd: Date, policy: BackoffPolicy, random: Random): Date {
  const due = now.getTime() + retryDelayMs(attempts, policy, random);
  return new Date(Math.min(due, Math.max(lifetimeEnd.getTime(), now.getTime())));
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A 4xx reply that says when to come back ("try again in 5 minutes", "retry after 300
 * seconds", greylisting's "please retry in 60s") is not retried sooner. Returns the
 * delay it asks for, if it asks; at most a day, so a typo cannot park mail for ever.
 */
export function retryAfterHintMs(reply: string): number | undefined {
  const m = /\b(?:try(?:\s+again)?|retry|come\s+back)\s+(?:in|after)\s+(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b/i.exec(reply);
  if (!m) return undefined;
  const ms = UNIT_MS[m[2]!.toLowerCase().charAt(0)]!;
  return Math.min(Number(m[1]) * ms, 24 * 3_600_000);
}

/**
 * The next attempt after a deferral: the backoff's time, or later when the reply asked
 * for later, never past the end of the lifetime.
 */
export function deferUntil(now: Date, attempts: number, lifetimeEnd: Date, policy: BackoffPolicy, random: Random, reply: string): Date {
  const backoff = nextAttemptAt(now, attempts, lifetimeEnd, policy, random);
  const hint = retryAfterHintMs(reply);
  if (hint === undefined) return backoff;
  const asked = now.getTime() + hint;
  return new Date(Math.min(Math.max(backoff.getTime(), asked), Math.max(lifetimeEnd.getTime(), now.getTime())));
}

export type AfterFailure = { kind: "retry"; at: Date } | { kind: "expire" };

/**
 * What follows the `attempts`-th failed attempt (1 the first time): expire once the
 * lifetime is over (RFC 3463 X.4.7), else retry at `deferUntil`'s time.
 */
export function afterFailure(
  now: Date,
  attempts: number,
  lifetimeEnd: Date,
  policy: BackoffPolicy,
  random: Random,
  reply = "",
): AfterFailure {
  if (now.getTime() >= lifetimeEnd.getTime()) return { kind: "expire" };
  return { kind: "retry", at: deferUntil(now, attempts, lifetimeEnd, policy, random, reply) };
}

/**
 * A destination on which no host answered `failures` times in a row is parked after
 * `parkAfter` such attempts, for a backoff that grows with each further failure.
 */
export function parkedFor(failures: number, parkAfter: number, policy: BackoffPolicy): number | undefined {
  if (failures < parkAfter) return undefined;
  return nominalDelayMs(failures - parkAfter + 1, policy);
}
