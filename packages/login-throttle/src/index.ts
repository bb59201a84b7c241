export { LoginThrottle, type LoginThrottleOptions } from "./throttle.js";
export {
  decideLoginAttempt,
  penaltyDelayMs,
  loginThrottleLimits,
  DEFAULT_LOGIN_THROTTLE_LIMITS,
  type LoginGate,
  type LoginOutcome,
  type LoginThrottleLimits,
} from "./penalty.js";
export { clientKey } from "./client-address.js";
