export { RetrySchedule, relayScheduleKey, type ScheduleEntry } from "./schedule.js";
export {
  afterFailure,
  deferUntil,
  nextAttemptAt,
  nominalDelayMs,
  parkedFor,
  retryAfterHintMs,
  retryDelayMs,
  JITTER,
  type AfterFailure,
  type BackoffPolicy,
  type Random,
} from "./backoff.js";
export {
  listQueue,
  showDelivery,
  retryNow,
  hold,
  release,
  deleteQueued,
  type QueueFilter,
  type QueuedDelivery,
  type DeliveryDetail,
  type Target,
} from "./admin.js";
export { queuedDoc, deliveryDetailDoc } from "./documents.js";
