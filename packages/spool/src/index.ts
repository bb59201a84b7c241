export { type Clock, systemClock } from "./clock.js";
export { blobIdOf, putBlob, getBlob, blobSize, blobChunks, readBlobs, readContents, BLOB_CHUNK_OCTETS, type ReadBlob } from "./blobs.js";
export { Outbox, type OutboxDraft, type PendingEvent } from "./outbox.js";
export {
  acceptMessage,
  acceptInTransaction,
  type Submission,
  type Accepted,
  type AcceptedInTransaction,
  type AcceptOptions,
} from "./accept.js";
export { loadMessage, type StoredMessage } from "./messages.js";
export { transitionAndAnnounce, type Announcement, type Change } from "./announce.js";
export {
  transition,
  recordOutcomes,
  toDelivery,
  type DeliveryRow,
  type Outcome,
  loadDeliveries,
  overdueDeliveries,
  postpone,
  FINAL_STATES,
  type Delivery,
  type DeliveryState,
  type DeliveryRoute,
  type DeliveryEvent,
  type Transition,
} from "./deliveries.js";
