/**
 * Who is calling: `Authorization: Basic` with the account's address and password
 * (RFC 7617), or `Authorization: Bearer <token>` with a token it issued (RFC 6750).
 * Runs before the request is validated, so a caller without credentials learns 401
 * and nothing about the schema.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Pool } from "@correo/db";
import { authenticate } from "@correo/directory";
import { counter, metricNames } from "@correo/telemetry";
import { problems, sendProblem, type Problem } from "./problem.js";
import { verifyToken } from "./tokens.js";

export interface ApiAccount {
  id: number;
  address: string;
  /** How it authenticated; tokens are issued only with the password. */
  via: "password" | "token";
}

declare module "fastify" {
  interface FastifyRequest {
    account: ApiAccount;
  }
}

export const WWW_AUTHENTICATE = 'Basic realm="Correo mailbox", charset="UTF-8", Bearer realm="Correo mailbox"';

const authFailures = () => counter(metricNames.protocolAuthFailures, "Failed logins, by protocol");

/** Reads the Authorization header: the account, or the problem to answer with. */
export async function authenticateRequest(pool: Pool, header: string | undefined): Promise<ApiAccount | Problem> {
  if (!header) return problems.unauthenticated("send 'Authorization: Basic <address:password>' or 'Authorization: Bearer <token>'");
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) return problems.unauthenticated("Basic credentials must be 'address:password', base64-encoded");
    const account = await authenticate(pool, decoded.slice(0, colon), decoded.slice(colon + 1));
    return account ? { id: account.id, address: account.address, via: "password" } : problems.unauthenticated("invalid address or password");
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) {
    const account = await verifyToken(pool, bearer[1]!);
    return account ? { id: account.id, address: account.address, via: "token" } : problems.unauthenticated("the token is unknown, expired or revoked");
  }
  return problems.unauthenticated("the Authorization header must be 'Basic …' or 'Bearer …'");
}

/** Authenticates every route registered in `app` (an encapsulated plugin). */
export function requireAccount(app: FastifyInstance, pool: Pool): void {
  app.decorateRequest("account", null as unknown as ApiAccount);
  app.addHook("preValidation", async (req: FastifyRequest, reply: FastifyReply) => {
    const result = await authenticateRequest(pool, req.headers.authorization);
    if ("status" in result) {
      authFailures().add(1, { protocol: "http" });
      reply.header("WWW-Authenticate", WWW_AUTHENTICATE);
      return sendProblem(reply, result);
    }
    req.account = result;
  });
}
