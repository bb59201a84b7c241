/** Issue, list and revoke the account's API tokens. Issuing needs the password (Basic), not another token. */
import type { FastifyInstance } from "fastify";
import type { Pool } from "@correo/db";
import type { AuthCache } from "@correo/directory";
import type { LoginThrottle } from "@correo/login-throttle";
import { requireAccount } from "./auth.js";
import { problems, sendProblem } from "./problem.js";
import { IssuedToken, IssueTokenBody, ProblemSchema, TokenList, TokenParams } from "./schemas.js";
import { issueToken, listTokens, revokeToken, type MailboxToken } from "./tokens.js";

const security: { [scheme: string]: string[] }[] = [{ basicAuth: [] }, { bearerAuth: [] }];

const tokenInfo = (t: MailboxToken) => ({
  id: t.tokenId,
  description: t.description,
  created_at: t.createdAt.toISOString(),
  expires_at: t.expiresAt?.toISOString() ?? null,
  last_used_at: t.lastUsedAt?.toISOString() ?? null,
});

export async function tokensRoutes(app: FastifyInstance, opts: { pool: Pool; logins?: LoginThrottle; authCache?: AuthCache }): Promise<void> {
  requireAccount(app, opts.pool, opts.logins, opts.authCache);

  app.post<{ Body: IssueTokenBody }>(
    "/v1/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "Issue a token (authenticate with the password); the token is shown only in this answer",
        security: [{ basicAuth: [] }],
        body: IssueTokenBody,
        response: { 201: IssuedToken, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema },
      },
      // Every field is optional, so no body at all (curl -X POST -u …) is the empty object.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      if (req.account.via !== "password") {
        return sendProblem(reply, {
          title: "Forbidden",
          status: 403,
          detail: "tokens are issued with the account's password (Authorization: Basic), not with another token",
          errors: [{ field: "header.authorization", message: "use Basic credentials to issue a token" }],
        });
      }
      const t = await issueToken(opts.pool, req.account.id, {
        ...(req.body.description !== undefined ? { description: req.body.description } : {}),
        ...(req.body.expires_in !== undefined ? { expiresInSeconds: req.body.expires_in } : {}),
      });
      return reply.code(201).send({ ...tokenInfo(t), token: t.token });
    },
  );

  app.get(
    "/v1/tokens",
    { schema: { tags: ["tokens"], summary: "The account's tokens that can still be used", security, response: { 200: TokenList, 401: ProblemSchema } } },
    async (req) => ({ tokens: (await listTokens(opts.pool, req.account.id)).map(tokenInfo) }),
  );

  app.delete<{ Params: TokenParams }>(
    "/v1/tokens/:id",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke a token at once",
        security,
        params: TokenParams,
        response: { 204: { description: "revoked", type: "null" }, 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (req, reply) => {
      if (!(await revokeToken(opts.pool, req.account.id, req.params.id))) {
        return sendProblem(reply, problems.notFound(`the account has no usable token ${req.params.id}`, "params.id"));
      }
      return reply.code(204).send();
    },
  );
}
