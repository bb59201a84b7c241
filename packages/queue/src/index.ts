export { RetrySchedule, type ScheduleEntry } from "./schedule.js";
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
