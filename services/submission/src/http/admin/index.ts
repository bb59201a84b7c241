import type { FastifyInstance } from "fastify";
import type { DeadLetterQueue } from "@correo/broker";
import type { Pool } from "@correo/db";
import { accountRoutes } from "./accounts.js";
import { aliasRoutes } from "./aliases.js";
import { apiKeyRoutes } from "./api-keys.js";
import { requireAdminKey } from "./auth.js";
import { adminProblems, adminSecurity } from "./schemas.js";
import { domainRoutes } from "./domains.js";
import { transportRoutes } from "./transports.js";
import { queueRoutes } from "./queue.js";
import { deadLetterRoutes } from "./dead-letters.js";
import { inboundRouteAdminRoutes } from "./inbound-routes.js";
import { templateRoutes } from "../../templates/routes.js";
import { DomainParams, DomainTemplateParams } from "../../templates/schemas.js";
import { adminSuppressionRoutes } from "./suppressions.js";
import { adminWebhookRoutes } from "./webhooks.js";
import type { WebhookRouteOptions } from "../webhooks/index.js";

/**
 * The admin API under /v1/admin/…: the directory, the relay queue and the dead-letter
 * queue, as `pnpm correo` manages them, for an admin key. Registered as one encapsulated plugin, so its auth hook covers only it.
 */
export async function adminApi(app: FastifyInstance, opts: { pool: Pool; deadLetters: DeadLetterQueue; webhooks: WebhookRouteOptions }): Promise<void> {
  // Said once for every admin route: it needs the admin key, and how it can fail.
  app.addHook("onRoute", (route) => {
    route.schema = { ...route.schema, security: adminSecurity, response: { ...adminProblems, ...(route.schema?.response as object | undefined) } };
  });
  requireAdminKey(app, opts.pool);
  await app.register(domainRoutes, opts);
  await app.register(accountRoutes, opts);
  await app.register(aliasRoutes, opts);
  await app.register(apiKeyRoutes, opts);
  await app.register(transportRoutes, opts);
  await app.register(queueRoutes, opts);
  await app.register(deadLetterRoutes, opts);
  await app.register(inboundRouteAdminRoutes, opts);
  await app.register(templateRoutes, {
    pool: opts.pool,
    // Not `prefix`: fastify would take that as the plugin's route prefix.
    path: "/v1/admin/domains/:domain/templates",
    collectionParams: DomainParams,
    itemParams: DomainTemplateParams,
    domainOf: (req) => (req.params as { domain: string }).domain,
    tags: ["admin: templates"],
    domainField: "params.domain",
  });
  await app.register(adminSuppressionRoutes, opts);
  await app.register(adminWebhookRoutes, opts.webhooks);
}
