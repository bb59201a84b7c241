import type { FastifyReply } from "fastify";
import { WebhookError } from "@correo/webhooks";

export { endpointDoc, attemptDoc } from "@correo/webhooks";
import { sendProblem } from "../problem.js";

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
