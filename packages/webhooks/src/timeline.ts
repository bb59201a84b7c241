import type { TimelineRow } from "./events.js";

/**
 * The timeline as events see it: delivery_events `e` with its delivery `d`, message `m`
 * and the domain the event belongs to (`domain_id`): an inbound route's recipient's
 * domain; else the API key's domain (HTTP); else the domain of the account that
 * authenticated the SMTP submission. Mail that came in over the MX from elsewhere, and
 * DSNs, belong to no sending domain.
 */
export const TIMELINE_FROM = `
  FROM delivery_events e
  JOIN deliveries d ON d.id = e.delivery_id
  JOIN messages m ON m.id = d.message_id
  LEFT JOIN api_keys k ON k.id = m.api_key_id
  LEFT JOIN accounts acc ON acc.id = m.account_id
  CROSS JOIN LATERAL (SELECT coalesce(
      CASE WHEN d.route = 'inbound' THEN (SELECT id FROM domains WHERE name = lower(split_part(d.recipient, '@', 2))) END,
      k.domain_id,
      acc.domain_id
    ) AS domain_id) dom`;

export const TIMELINE_COLUMNS = `
  e.id::text AS id, e.event, e.at, e.detail, d.id AS delivery_id, d.recipient, d.route, d.remote_mta,
  m.id AS message_id, m.header_message_id, m.tags, m.metadata, dom.domain_id::text AS domain_id,
  CASE WHEN e.event = 'deferred' THEN
    (SELECT count(*)::int FROM delivery_events x WHERE x.delivery_id = e.delivery_id AND x.event = 'deferred' AND x.id <= e.id)
  ELSE 0 END AS deferrals,
  CASE WHEN e.event = 'deferred' AND NOT EXISTS (SELECT 1 FROM delivery_events y WHERE y.delivery_id = e.delivery_id AND y.id > e.id)
    THEN d.next_attempt_at END AS next_attempt_at`;

export interface TimelineDbRow {
  id: string;
  event: string;
  at: Date;
  detail: string | null;
  delivery_id: string;
  recipient: string;
  route: string | null;
  remote_mta: string | null;
  message_id: string;
  header_message_id: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  domain_id: string | null;
  deferrals: number;
  next_attempt_at: Date | null;
}

export const toTimelineRow = (r: TimelineDbRow): TimelineRow => ({
  id: r.id,
  event: r.event,
  at: r.at,
  detail: r.detail,
  deliveryId: r.delivery_id,
  recipient: r.recipient,
  route: r.route,
  remoteMta: r.remote_mta,
  messageId: r.message_id,
  headerMessageId: r.header_message_id,
  tags: r.tags,
  metadata: r.metadata,
  deferrals: r.deferrals,
  nextAttemptAt: r.next_attempt_at,
});
