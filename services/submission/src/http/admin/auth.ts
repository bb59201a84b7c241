import type { FastifyInstance } from "fastify";
import type { Queryable } from "@correo/db";
import { verifyAdminKey, type AdminKey } from "@correo/directory";
import { problems, sendProblem } from "../problem.js";

declare module "fastify" {
  interface FastifyRequest {
    adminKey: AdminKey;
  }
}

/**
 * Every admin route needs `Authorization: Bearer correoadmin_…` (an admin key from
 * `pnpm correo adminkey create`); checked before the body is validated, so that a
 * caller without one learns 401 and nothing about the schema. Domain API keys are refused.
 */
export function requireAdminKey(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest("adminKey", null as unknown as AdminKey);
  app.addHook("preValidation", async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    if (!m) return sendProblem(reply, problems.unauthenticated("send 'Authorization: Bearer <admin key>'"));
    const key = await verifyAdminKey(db, m[1]!);
    if (!key) return sendProblem(reply, problems.unauthenticated("the admin key is unknown or revoked (domain API keys cannot use the admin API)"));
    req.adminKey = key;
  });
}
