/**
 * Who is calling: `Authorization: Basic` with the account's address and password
 * (RFC 7617), or `Authorization: Bearer <token>` with a token it issued (RFC 6750).
 * Runs before the request is validated, so a caller without credentials learns 401
 * and nothing about the schema.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Pool } from "@correo/db";
import { authenticate, type AuthCache } from "@correo/directory";
import type { LoginOutcome, LoginThrottle } from "@correo/login-throttle";
import { atZero, counter, metricNames } from "@correo/telemetry";
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

/** Around the password check of Basic credentials (packages/login-throttle, bound to the client address). */
export type BasicLoginGuard = (address: string, check: () => Promise<ApiAccount | undefined>) => Promise<LoginOutcome<ApiAccount>>;

const unguarded: BasicLoginGuard = async (_address, check) => {
  const account = await check();
  return account ? { outcome: "ok", account } : { outcome: "failed", delayMs: 0 };
};

/** The account, the problem to answer with, or a throttled client address (429 with Retry-After). */
export type AuthResult = ApiAccount | Problem | { throttled: Problem; retryAfterSeconds: number };

/** Reads the Authorization header. */
export async function authenticateRequest(
  pool: Pool,
  header: string | undefined,
  guard: BasicLoginGuard = unguarded,
  authCache?: AuthCache,
): Promise<AuthResult> {
  if (!header) return problems.unauthenticated("send 'Authorization: Basic <address:password>' or 'Authorization: Bearer <token>'");
  const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) return problems.unauthenticated("Basic credentials must be 'address:password', base64-encoded");
    const address = decoded.slice(0, colon);
    const outcome = await guard(address, async () => {
      const account = await authenticate(pool, address, decoded.slice(colon + 1), { cache: authCache });
      return account ? { id: account.id, address: account.address, via: "password" } : undefined;
    });
    if (outcome.outcome === "ok") return outcome.account;
    if (outcome.outcome === "failed") return problems.unauthenticated("invalid address or password");
    const retryAfterSeconds = Math.ceil(outcome.retryAfterMs / 1000);
    return {
      throttled: problems.tooManyRequests(`too many failed logins from your address; try again in ${retryAfterSeconds} seconds`),
      retryAfterSeconds,
    };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) {
    const account = await verifyToken(pool, bearer[1]!);
    return account ? { id: account.id, address: account.address, via: "token" } : problems.unauthenticated("the token is unknown, expired or revoked");
  }
  return problems.unauthenticated("the Authorization header must be 'Basic …' or 'Bearer …'");
}

/**
 * Authenticates every route registered in `app` (an encapsulated plugin). With
 * `logins`, failed Basic logins count per client address and account like IMAP's and
 * POP3's: a throttled address gets 429 with Retry-After, a failure waits its delay.
 * With `authCache`, Basic credentials verified a moment ago skip scrypt.
 */
export function requireAccount(app: FastifyInstance, pool: Pool, logins?: LoginThrottle, authCache?: AuthCache): void {
  atZero(authFailures(), [{ protocol: "http" }]);
  app.decorateRequest("account", null as unknown as ApiAccount);
  app.addHook("preValidation", async (req: FastifyRequest, reply: FastifyReply) => {
    const guard: BasicLoginGuard | undefined = logins ? (address, check) => logins.attempt(req.ip, address, check) : undefined;
    const result = await authenticateRequest(pool, req.headers.authorization, guard, authCache);
    if ("throttled" in result) {
      reply.header("Retry-After", String(result.retryAfterSeconds));
      return sendProblem(reply, result.throttled);
    }
    if ("status" in result) {
      authFailures().add(1, { protocol: "http" });
      reply.header("WWW-Authenticate", WWW_AUTHENTICATE);
      return sendProblem(reply, result);
    }
    req.account = result;
  });
}
