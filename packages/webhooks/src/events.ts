/**
 * The webhook event model: what a timeline row (delivery_events joined to its delivery
 * and message) means to a user's endpoint. Pure: the dispatcher, the events API and the
 * tests all build events here, so that a pushed event and a pulled one are the same.
 */

/** Event types an endpoint can subscribe to. */
export const EVENT_TYPES = [
  "accepted",
  "delivered",
  "deferred",
  "bounced",
  "expired",
  "suppressed",
  "complained",
  "inbound",
  "endpoint.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** Sent only by `POST …/webhooks/:id/test`, whatever the endpoint subscribes to. */
export type AnyEventType = EventType | "test";

export function isEventType(s: string): s is EventType {
  return (EVENT_TYPES as readonly string[]).includes(s);
}

/** A timeline row with what an event needs from its delivery and message. */
export interface TimelineRow {
  id: string; // delivery_events.id (bigint as text)
  event: string; // delivery_events.event
  at: Date;
  detail: string | null;
  deliveryId: string;
  recipient: string;
  route: string | null;
  remoteMta: string | null;
  messageId: string;
  headerMessageId: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  /** How many 'deferred' rows the delivery has up to and including this one. */
  deferrals: number;
  /** The delivery's next attempt time, when this row is its latest event. */
  nextAttemptAt: Date | null;
}

export interface WebhookEvent {
  id: string;
  type: AnyEventType;
  created_at: string;
  data: Record<string, unknown>;
}

/** The stable id of a timeline event: its row's serial id. */
export const timelineEventId = (rowId: string): string => `evt_${rowId}`;

/** RFC 3463 §2: class.subject.detail, class 2, 4 or 5. */
export interface EnhancedStatus {
  code: string;
  class: 2 | 4 | 5;
}

/** The enhanced status code of an SMTP reply or DSN diagnostic, if it carries one. */
export function enhancedStatusOf(reply: string | null): EnhancedStatus | undefined {
  const m = reply ? /(?:^|[\s(])([245])\.(\d{1,3})\.(\d{1,3})(?=$|[\s),;:])/.exec(reply) : null;
  return m ? { code: `${m[1]}.${m[2]}.${m[3]}`, class: Number(m[1]) as 2 | 4 | 5 } : undefined;
}

/**
 * A bounce is hard when its status is permanent (RFC 3463 §3.1: class 5), soft when it
 * is persistent transient (class 4: a bounce after deferrals or a full mailbox); without
 * a status, the SMTP reply code's first digit says the same (RFC 5321 §4.2.1).
 */
export function bounceClassOf(reply: string | null): "hard" | "soft" {
  const status = enhancedStatusOf(reply);
  if (status) return status.class === 5 ? "hard" : "soft";
  return reply && /^\s*4\d\d\b/.test(reply) ? "soft" : "hard";
}

/** "stored in INBOX as UID 7", as the mailbox service writes it (packages/mailstore). */
function mailboxOf(detail: string | null): { mailbox: string; uid: number } | undefined {
  const m = detail ? /^stored in (.+) as UID (\d+)$/.exec(detail) : null;
  return m ? { mailbox: m[1]!, uid: Number(m[2]) } : undefined;
}

/**
 * The event a timeline row stands for, or undefined for rows users do not hear about
 * ('routed': an internal step). A 'delivered' row of an inbound route (wt-inbound's
 * route 'inbound', mail POSTed to the user's app) is the event `inbound`.
 */
export function eventTypeOf(row: Pick<TimelineRow, "event" | "route">): EventType | undefined {
  switch (row.event) {
    case "delivered":
      return row.route === "inbound" ? "inbound" : "delivered";
    case "accepted":
    case "deferred":
    case "bounced":
    case "expired":
    case "suppressed":
    case "complained":
      return row.event;
    default:
      return undefined;
  }
}

export function eventOf(row: TimelineRow): WebhookEvent | undefined {
  const type = eventTypeOf(row);
  if (!type) return undefined;
  const base = {
    message_id: row.messageId,
    header_message_id: row.headerMessageId,
    recipient: row.recipient,
    tags: row.tags,
    metadata: row.metadata,
  };
  let data: Record<string, unknown>;
  switch (type) {
    case "delivered": {
      const stored = row.route === "local" ? mailboxOf(row.detail) : undefined;
      data = stored
        ? { ...base, route: "local", mailbox: stored.mailbox, uid: stored.uid, detail: row.detail }
        : { ...base, route: row.route, remote_reply: row.detail, remote_mta: row.remoteMta };
      break;
    }
    case "deferred":
      data = {
        ...base,
        reply: row.detail,
        attempt: row.deferrals,
        next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
      };
      break;
    case "bounced":
      data = {
        ...base,
        bounce_class: bounceClassOf(row.detail),
        status: enhancedStatusOf(row.detail)?.code ?? null,
        diagnostic: row.detail,
        remote_mta: row.remoteMta,
      };
      break;
    default:
      data = { ...base, detail: row.detail };
  }
  return { id: timelineEventId(row.id), type, created_at: row.at.toISOString(), data };
}
