import type { FastifyInstance } from "fastify";
import { eventsRoute, webhookRoutes, type WebhookRouteOptions } from "../webhooks/index.js";

/** Any domain's webhook endpoints, and every domain's events: `correo webhook …`, `correo events`. */
export async function adminWebhookRoutes(app: FastifyInstance, opts: WebhookRouteOptions): Promise<void> {
  webhookRoutes(app, opts, {
    base: "/v1/admin/domains/:domain/webhooks",
    admin: true,
    tags: ["admin: webhooks"],
    scope: (req) => (req.params as { domain: string }).domain,
  });
  eventsRoute(app, opts, { path: "/v1/admin/events", tags: ["admin: events"], scope: (req) => req.query.domain });
}
