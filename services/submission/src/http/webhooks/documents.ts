import type { FastifyReply } from "fastify";
import { WebhookError, type Attempt, type Endpoint } from "@correo/webhooks";
import { sendProblem } from "../problem.js";

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

/** Where each field a WebhookError names came from in the request. */
const LOCATION: Record<string, string> = {
  url: "body.url",
  event_types: "body.event_types",
  id: "params.id",
  event_id: "params.event_id",
  domain: "params.domain",
  "query.domain": "query.domain",
  type: "query.type",
  message_id: "query.message_id",
  since: "query.since",
  cursor: "query.cursor",
  limit: "query.limit",
};

/** Runs a webhooks operation; a refusal becomes problem+json naming the field (404 / 400). */
export async function webhookCall<T>(reply: FastifyReply, op: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; reply: FastifyReply }> {
  try {
    return { ok: true, value: await op() };
  } catch (err) {
    if (!(err instanceof WebhookError)) throw err;
    const notFound = err.kind === "not-found";
    return {
      ok: false,
      reply: sendProblem(reply, {
        title: notFound ? "Not Found" : "Invalid request",
        status: notFound ? 404 : 400,
        detail: err.message,
        errors: [{ field: LOCATION[err.field] ?? err.field, message: err.message }],
      }),
    };
  }
}
