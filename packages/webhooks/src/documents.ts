import type { Endpoint } from "./endpoints.js";
import type { Attempt } from "./history.js";

// The snake_case documents of the HTTP API, the admin API and `correo webhook --json`.

export const endpointDoc = (e: Endpoint, secret?: string) => ({
  id: e.id,
  domain: e.domain,
  url: e.url,
  event_types: e.eventTypes,
  description: e.description,
  enabled: e.enabled,
  disabled_reason: e.disabledReason,
  disabled_at: e.disabledAt?.toISOString() ?? null,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
  ...(secret ? { secret } : {}),
});

export const attemptDoc = (a: Attempt) => ({
  id: a.id,
  event_id: a.eventId,
  event_type: a.eventType,
  at: a.at.toISOString(),
  status: a.status,
  duration_ms: a.durationMs,
  error: a.error,
  response_excerpt: a.responseExcerpt,
  ok: a.ok,
});

