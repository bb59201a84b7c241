export {
  EVENT_TYPES,
  isEventType,
  eventOf,
  eventTypeOf,
  bounceClassOf,
  enhancedStatusOf,
  timelineEventId,
  type EventType,
  type AnyEventType,
  type TimelineRow,
  type WebhookEvent,
} from "./events.js";
export { RETRY_DELAYS_MS, MAX_ATTEMPTS, nextAttemptAt, endpointVerdict, isSuccess, type EndpointVerdict } from "./retry.js";
export { checkEndpointUrl } from "./endpoint-url.js";
export {
  createEndpoint,
  getEndpoint,
  requireEndpoint,
  listEndpoints,
  updateEndpoint,
  rotateSecret,
  deleteEndpoint,
  WebhookError,
  type Endpoint,
  type EndpointDraft,
  type EndpointChange,
} from "./endpoints.js";
export { dispatchTimeline, type DueDelivery, type DispatchResult } from "./dispatch.js";
export { WebhookDeliverer, disableEndpoint, redriveDue, type DelivererOptions } from "./deliver.js";
export { postEvent, EVENT_ID_HEADER, EVENT_TYPE_HEADER, type PostResult } from "./post.js";
export { listAttempts, replayEvent, sendTestEvent, type Attempt } from "./history.js";
export { listEvents, encodeEventCursor, decodeEventCursor, type EventFilter } from "./events-query.js";
export { endpointDoc, attemptDoc } from "./documents.js";
