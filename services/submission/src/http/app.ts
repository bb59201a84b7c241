import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { DeadLetterQueue } from "@correo/broker";
import type { Logger } from "@correo/telemetry";
import { frameworkProblems, useProblemErrors } from "@correo/http-problem";
import { httpAcceptMetricsAtZero } from "./http-accept.js";
import { messagesRoutes, type MessagesRouteOptions } from "./messages-route.js";
import { inboundAttachmentRoute, inboundRoutesApi } from "./inbound-routes.js";
import { registerOpenApi } from "./openapi.js";
import { apiSuppressionRoutes } from "./suppressions-route.js";
import { webhookApi } from "./webhooks/index.js";

export interface HttpApiOptions extends MessagesRouteOptions {
  logger: Logger;
  /** The broker's dead-letter queue, for the admin API. */
  deadLetters: DeadLetterQueue;
  /** Issue 15: webhook endpoints (WEBHOOK_ALLOW_HTTP; `…/test`'s wait). Default: https only, 10 s. */
  webhooks?: { allowHttp: boolean; testTimeoutMs: number };
}

/** The HTTP submission API. Every error is application/problem+json. */
export function buildHttpApi(opts: HttpApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // A URL that cannot be decoded (%FF) is a 400 problem like every other bad request.
    frameworkErrors: frameworkProblems,
    // Base64 inflates attachments by 4/3; the composed message is checked against the exact limit.
    bodyLimit: Math.ceil(opts.maxMessageSize * 1.4) + 64 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
  });
  httpAcceptMetricsAtZero();
  useProblemErrors(app, { title: "Internal Server Error", status: 500, detail: "the request failed; nothing was accepted" });
  // First: @fastify/swagger collects the routes registered after it.
  registerOpenApi(app);
  // Registered as an encapsulated plugin: its auth hook covers its routes only.
  void app.register(messagesRoutes, opts);
  // Inbound routes (issue 15): managed with the API key; attachments through signed links, no key.
  void app.register(inboundRoutesApi, { pool: opts.pool });
  void app.register(inboundAttachmentRoute, { pool: opts.pool, clock: opts.clock });
  void app.register(apiSuppressionRoutes, opts); // /v1/suppressions: the API key's domain's list (issue 15)
  const webhooks = { pool: opts.pool, clock: opts.clock, allowHttp: false, testTimeoutMs: 10_000, ...opts.webhooks };
  void app.register(webhookApi, webhooks); // /v1/webhooks…, /v1/events (issue 15)
  void app.register(import("./admin/index.js").then((m) => ({ default: m.adminApi })), { pool: opts.pool, deadLetters: opts.deadLetters, webhooks }); // the admin API (/v1/admin/…)
  return app;
}
