/**
 * When an event is tried again, and when an endpoint is given up on. Pure: time is
 * passed in (DESIGN: time is injected), so a 24-hour schedule is tested in milliseconds.
 */

/**
 * Delay after the n-th failed attempt (index n-1). 13 attempts over 25 h 47 min: quick
 * retries for a blip, then hours apart for an outage, as Stripe and Svix do (≥ 24 h).
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  10_000, 30_000, 60_000, 5 * 60_000, 10 * 60_000, 30 * 60_000,
  3_600_000, 2 * 3_600_000, 4 * 3_600_000, 6 * 3_600_000, 6 * 3_600_000, 6 * 3_600_000,
];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The next attempt after `attempts` failed ones, or undefined when they are exhausted. */
export function nextAttemptAt(attempts: number, now: Date, delays: readonly number[] = RETRY_DELAYS_MS): Date | undefined {
  const delay = delays[attempts - 1];
  return delay === undefined ? undefined : new Date(now.getTime() + delay);
}

/** An answer counts as delivered only when it is 2xx (Stripe, Svix: redirects are not followed). */
export const isSuccess = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

export type EndpointVerdict = { disable: false } | { disable: true; reason: string };

/**
 * An endpoint is disabled when one event has used up every attempt (it has failed for
 * more than 24 h), or when `maxFailures` attempts in a row have failed within 24 h (a
 * busy endpoint that is down fails many events at once long before any is exhausted).
 */
export function endpointVerdict(input: {
  exhausted: boolean;
  failuresInARow24h: number;
  maxFailures: number;
}): EndpointVerdict {
  if (input.exhausted) return { disable: true, reason: `an event failed all ${MAX_ATTEMPTS} attempts over 24 h` };
  if (input.failuresInARow24h >= input.maxFailures) {
    return { disable: true, reason: `${input.failuresInARow24h} attempts in a row failed within 24 h` };
  }
  return { disable: false };
}
