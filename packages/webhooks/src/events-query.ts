import type { Queryable } from "@correo/db";
import { eventOf, isEventType, type WebhookEvent } from "./events.js";
import { WebhookError } from "./endpoints.js";
import { TIMELINE_COLUMNS, TIMELINE_FROM, toTimelineRow, type TimelineDbRow } from "./timeline.js";

export interface EventFilter {
  /** Only this domain's events (the API key's); undefined: every domain (admin). */
  domain?: string;
  types?: string[];
  recipient?: string;
  messageId?: string;
  tag?: string;
  since?: Date;
  until?: Date;
  /** The timeline id after which (older) the page starts: from a previous page's cursor. */
  before?: string;
  limit: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opaque cursor of the events API: the last event's timeline id. */
export const encodeEventCursor = (id: string): string => Buffer.from(`e|${id}`).toString("base64url");
export function decodeEventCursor(text: string): string | undefined {
  const m = /^e\|(\d{1,19})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  return m?.[1];
}

/**
 * `GET /v1/events`: the timeline as events, newest first, filtered in SQL; the same
 * events (ids, payloads) the webhooks push. Paged by the timeline id (the primary key).
 */
export async function listEvents(db: Queryable, f: EventFilter): Promise<{ events: WebhookEvent[]; next: string | null }> {
  for (const t of f.types ?? []) {
    if (!isEventType(t) || t === "endpoint.disabled") throw new WebhookError("invalid", "type", `unknown event type '${t}'`);
  }
  if (f.messageId !== undefined && !UUID.test(f.messageId)) throw new WebhookError("invalid", "message_id", `${f.messageId} is not a message id (a UUID)`);
  if (f.since && f.until && f.since >= f.until) throw new WebhookError("invalid", "since", "since must be before until");
  const types = f.types ?? [];
  // Event type → timeline row: 'inbound' and 'delivered' share the row event 'delivered'.
  const rowEvents = [...new Set(types.map((t) => (t === "inbound" ? "delivered" : t)))];
  const { rows } = await db.query<TimelineDbRow>(
    `SELECT ${TIMELINE_COLUMNS} ${TIMELINE_FROM}
      WHERE e.event <> 'routed'
        AND ($1::text IS NULL OR dom.domain_id = (SELECT id FROM domains WHERE name = lower($1)))
        AND (cardinality($2::text[]) = 0 OR e.event = ANY ($2::text[]))
        AND ($3::text IS NULL OR lower(d.recipient) = lower($3))
        AND ($4::uuid IS NULL OR d.message_id = $4)
        AND ($5::text IS NULL OR m.tags @> ARRAY[$5::text])
        AND ($6::timestamptz IS NULL OR e.at >= $6)
        AND ($7::timestamptz IS NULL OR e.at < $7)
        AND ($8::bigint IS NULL OR e.id < $8)
        AND (NOT $9::boolean OR e.event <> 'delivered' OR d.route IS DISTINCT FROM 'inbound')
        AND (NOT $10::boolean OR e.event <> 'delivered' OR d.route = 'inbound')
      ORDER BY e.id DESC LIMIT $11`,
    [
      f.domain ?? null, rowEvents, f.recipient ?? null, f.messageId ?? null, f.tag ?? null, f.since ?? null, f.until ?? null,
      f.before ?? null,
      // 'delivered' without 'inbound' excludes inbound routes' rows; 'inbound' without 'delivered' keeps only theirs.
      types.includes("delivered") && !types.includes("inbound"),
      types.includes("inbound") && !types.includes("delivered"),
      f.limit + 1,
    ],
  );
  const page = rows.slice(0, f.limit);
  const events = page.map((r) => eventOf(toTimelineRow(r))).filter((e): e is WebhookEvent => e !== undefined);
  return { events, next: rows.length > f.limit ? encodeEventCursor(page[page.length - 1]!.id) : null };
}
