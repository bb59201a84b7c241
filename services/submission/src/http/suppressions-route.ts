import type { FastifyInstance } from "fastify";
import { requireApiKey } from "./auth.js";
import { problemResponses } from "./schemas.js";
import type { MessagesRouteOptions } from "./submit.js";
import { suppressionRoutes } from "./suppressions.js";

/** `/v1/suppressions`: the suppression list of the API key's domain. */
export async function apiSuppressionRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  requireApiKey(app, opts.pool);
  await suppressionRoutes(app, {
    pool: opts.pool,
    clock: opts.clock,
    prefix: "/v1/suppressions",
    domainOf: (req) => req.apiKey.domain,
    tags: ["suppressions"],
    schema: { security: [{ apiKey: [] }] },
    problemResponses,
  });
}
