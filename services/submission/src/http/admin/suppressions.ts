import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { systemClock, type Clock } from "@correo/spool";
import { suppressionRoutes } from "../suppressions.js";
import { DomainName } from "./schemas.js";

/** Any hosted domain's suppression list: `pnpm correo suppression …`. */
export async function adminSuppressionRoutes(app: FastifyInstance, { pool, clock }: { pool: Pool; clock?: Clock }): Promise<void> {
  await suppressionRoutes(app, {
    pool,
    clock: clock ?? systemClock,
    prefix: "/v1/admin/domains/:domain/suppressions",
    domainOf: (req) => (req.params as { domain: string }).domain,
    tags: ["admin: suppressions"],
    params: Type.Object({ domain: DomainName }),
  });
}
