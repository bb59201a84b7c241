import type { DeliveryDetail, QueuedDelivery } from "./admin.js";

/**
 * Queued deliveries as documents: snake_case, as GET /v1/admin/queue returns them and
 * `correo queue … --json` prints them. One mapping, so the two never disagree.
 */
export const queuedDoc = (d: QueuedDelivery) => ({
  id: d.id,
  message_id: d.messageId,
  recipient: d.recipient,
  domain: d.domain,
  envelope_from: d.envelopeFrom,
  subject: d.subject,
  state: d.state,
  held: d.held,
  attempts: d.attempts,
  created_at: d.createdAt.toISOString(),
  next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
  last_response: d.lastResponse,
});

export const deliveryDetailDoc = (d: DeliveryDetail) => ({
  ...queuedDoc(d),
  route: d.route,
  remote_mta: d.remoteMta,
  dsn_state: d.dsnState,
  events: d.events.map((e) => ({ at: e.at.toISOString(), event: e.event, detail: e.detail })),
});
