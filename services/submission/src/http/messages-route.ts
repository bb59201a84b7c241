import type { FastifyInstance } from "fastify";
import { templateRoutes } from "../templates/routes.js";
import { TemplateParams } from "../templates/schemas.js";
import { requireApiKey } from "./auth.js";
import { batchRoute } from "./batch-route.js";
import { messageFromFields, templateLookup } from "./message-fields.js";
import { sendProblem } from "./problem.js";
import { rawMessageRoute } from "./raw-route.js";
import { AcceptedResponse, IdempotencyHeaders, problemResponses, SendMessageBody } from "./schemas.js";
import { messageStatusRoutes } from "./status-route.js";
import { acceptBuiltMessage, type MessagesRouteOptions } from "./submit.js";

export type { MessagesRouteOptions } from "./submit.js";

export async function messagesRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  requireApiKey(app, opts.pool);
  app.post<{ Body: SendMessageBody; Headers: IdempotencyHeaders }>(
    "/v1/messages",
    {
      schema: {
        summary: "Send a message composed from fields or from a template",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        headers: IdempotencyHeaders,
        body: SendMessageBody,
        response: { 202: AcceptedResponse, ...problemResponses },
      },
    },
    async (req, reply) => {
      const r = await messageFromFields(opts, req.apiKey.domain, req.apiKey.id, req.body, templateLookup(opts.pool, req.apiKey.domain));
      if (!r.ok) return sendProblem(reply, r.problem);
      return acceptBuiltMessage(app, opts, req, reply, r.built);
    },
  );
  await rawMessageRoute(app, opts);
  await messageStatusRoutes(app, opts);
  await batchRoute(app, opts);
  // Templates of the API key's domain (issue 15 item 3); the admin API has the same per domain.
  await templateRoutes(app, {
    pool: opts.pool,
    path: "/v1/templates",
    itemParams: TemplateParams,
    domainOf: (req) => req.apiKey.domain,
    tags: ["templates"],
    security: [{ apiKey: [] }],
    problemResponses,
  });
}
