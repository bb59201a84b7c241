import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Queryable } from "@correo/db";
import { verifyApiKey, type ApiKey } from "@correo/directory";
import { problems, sendProblem, type Problem } from "./problem.js";

/** The API key a request carries, or the 401 problem to answer with. */
export async function authenticateRequest(db: Queryable, req: FastifyRequest): Promise<ApiKey | Problem> {
  const header = req.headers.authorization;
  if (!header) return problems.unauthenticated("send 'Authorization: Bearer <api key>'");
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return problems.unauthenticated("the Authorization header must be 'Bearer <api key>'");
  const key = await verifyApiKey(db, m[1]!);
  return key ?? problems.unauthenticated("the API key is unknown or revoked");
}

export function isProblem(x: ApiKey | Problem): x is Problem {
  return (x as Problem).status !== undefined && (x as Problem).title !== undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    apiKey: ApiKey;
  }
}

/**
 * Authenticates every request of the routes registered in `app` before their body is
 * validated, so that a caller without a key learns 401 and nothing about the schema.
 */
export function requireApiKey(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest("apiKey", null as unknown as ApiKey);
  app.addHook("preValidation", async (req, reply) => {
    const key = await authenticateRequest(db, req);
    if (isProblem(key)) return sendProblem(reply, key);
    req.apiKey = key;
  });
}
