import type { FastifyInstance } from "fastify";
import { requireApiKey } from "../auth.js";
import { WebhookError } from "@correo/webhooks";
import { eventsRoute, webhookRoutes, type WebhookRouteOptions } from "./routes.js";

export { webhookRoutes, eventsRoute, type WebhookRouteOptions } from "./routes.js";

/** /v1/webhooks… and /v1/events for the API key's domain (issue 15). */
export async function webhookApi(app: FastifyInstance, opts: WebhookRouteOptions): Promise<void> {
  requireApiKey(app, opts.pool);
  const security = [{ apiKey: [] }];
  webhookRoutes(app, opts, { base: "/v1/webhooks", admin: false, tags: ["webhooks"], security, scope: (req) => req.apiKey.domain });
  eventsRoute(app, opts, {
    path: "/v1/events",
    tags: ["events"],
    security,
    scope: (req) => {
      if (req.query.domain !== undefined) throw new WebhookError("invalid", "query.domain", "an API key sees its own domain's events only; domain is for /v1/admin/events");
      return req.apiKey.domain;
    },
  });
}
