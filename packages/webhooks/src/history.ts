import type { Queryable } from "@correo/db";
import type { DueDelivery } from "./dispatch.js";
import { requireEndpoint, signingSecrets, WebhookError } from "./endpoints.js";
import type { WebhookEvent } from "./events.js";
import { postEvent, type PostResult } from "./post.js";
import { randomUUID } from "node:crypto";

export interface Attempt {
  id: string;
  eventId: string;
  eventType: string;
  at: Date;
  status: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  ok: boolean;
}

/** An endpoint's attempts, newest first, optionally for one event; paged by attempt id. */
export async function listAttempts(
  db: Queryable,
  endpointId: string,
  domain: string | undefined,
  q: { eventId?: string; before?: string; limit: number },
): Promise<{ attempts: Attempt[]; next: string | null }> {
  await requireEndpoint(db, endpointId, domain);
  const { rows } = await db.query<{
    id: string; event_id: string; type: string; at: Date; status: number | null; duration_ms: number;
    error: string | null; response_excerpt: string | null; ok: boolean;
  }>(
    `SELECT a.id::text, w.event_id, ev.type, a.at, a.status, a.duration_ms, a.error, a.response_excerpt, a.ok
       FROM webhook_attempts a JOIN webhook_deliveries w ON w.id = a.delivery_id JOIN webhook_events ev ON ev.id = w.event_id
      WHERE a.endpoint_id = $1 AND ($2::text IS NULL OR w.event_id = $2) AND ($3::bigint IS NULL OR a.id < $3)
      ORDER BY a.id DESC LIMIT $4`,
    [endpointId, q.eventId ?? null, q.before ?? null, q.limit + 1],
  );
  const page = rows.slice(0, q.limit);
  return {
    attempts: page.map((r) => ({
      id: r.id, eventId: r.event_id, eventType: r.type, at: r.at, status: r.status, durationMs: r.duration_ms,
      error: r.error, responseExcerpt: r.response_excerpt, ok: r.ok,
    })),
    next: rows.length > q.limit ? page[page.length - 1]!.id : null,
  };
}

/**
 * Sends one event to one endpoint again, now, whatever became of it before (delivered,
 * failed, pending): its delivery starts a fresh retry schedule. Only events that were
 * dispatched to this endpoint can be replayed; the endpoint must be enabled. Due at
 * once: the sweeper (every second) hands it to the worker, so any process can replay.
 */
export async function replayEvent(
  db: Queryable,
  endpointId: string,
  domain: string | undefined,
  eventId: string,
  now: Date,
): Promise<DueDelivery> {
  const endpoint = await requireEndpoint(db, endpointId, domain);
  if (!endpoint.enabled) throw new WebhookError("invalid", "id", `endpoint ${endpointId} is disabled (${endpoint.disabledReason}); enable it first`);
  const { rows } = await db.query<{ id: string }>(
    `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, leased_until = NULL, updated_at = $4
      WHERE endpoint_id = $1 AND event_id = $2 RETURNING id::text`,
    [endpointId, eventId, now, now],
  );
  if (!rows[0]) throw new WebhookError("not-found", "event_id", `event ${eventId} was never sent to endpoint ${endpointId}`);
  return { id: rows[0].id, attempt: 0 };
}

/** `POST …/test`: a signed `test` event, sent now (not queued, not retried); the endpoint's answer. */
export async function sendTestEvent(
  db: Queryable,
  endpointId: string,
  domain: string | undefined,
  opts: { now: () => Date; timeoutMs: number },
): Promise<{ event: WebhookEvent; result: PostResult }> {
  await requireEndpoint(db, endpointId, domain);
  const { rows } = await db.query<{ url: string; secret: string; previous_secret: string | null; previous_until: Date | null; domain: string }>(
    `SELECT p.url, p.secret, p.previous_secret, p.previous_until, dm.name AS domain
       FROM webhook_endpoints p JOIN domains dm ON dm.id = p.domain_id WHERE p.id = $1`,
    [endpointId],
  );
  const r = rows[0]!;
  const event: WebhookEvent = {
    id: `evt_${randomUUID().replaceAll("-", "")}`,
    type: "test",
    created_at: opts.now().toISOString(),
    data: { endpoint_id: endpointId, domain: r.domain, message: "a test event from Correo; answer 2xx" },
  };
  const result = await postEvent(
    { url: r.url, secrets: signingSecrets(r, opts.now()), eventId: event.id, eventType: event.type, body: JSON.stringify(event) },
    { timeoutMs: opts.timeoutMs, now: opts.now },
  );
  return { event, result };
}
