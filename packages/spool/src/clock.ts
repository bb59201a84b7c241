/**
 * Time is injected (DESIGN): schedules, lifetimes and timeouts read a Clock, so that
 * tests can drive a five-day retry lifetime in seconds.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
