import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { apiKeyDoc as keyDoc, createApiKey, findApiKey, listApiKeys, revokeApiKey } from "@correo/directory";
import { directoryCall } from "./directory-problem.js";
import { ApiKeyDoc, CreateApiKey, DomainQuery, NameParams } from "./schemas.js";

/** Domain API keys (for POST /v1/messages): `pnpm correo apikey …`. The token is shown once. */
export async function apiKeyRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: API keys"];
  app.get<{ Querystring: DomainQuery }>(
    "/v1/admin/api-keys",
    { schema: { tags, summary: "List domain API keys, optionally of one domain", querystring: DomainQuery, response: { 200: Type.Object({ api_keys: Type.Array(ApiKeyDoc) }) } } },
    async (req) => ({ api_keys: (await listApiKeys(pool, req.query.domain)).map(keyDoc) }),
  );
  app.post<{ Body: CreateApiKey }>(
    "/v1/admin/api-keys",
    { schema: { tags, summary: "Create a domain API key (its token is shown only in this answer)", body: CreateApiKey, response: { 201: Type.Object({ api_key: ApiKeyDoc }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "body.domain", () => createApiKey(pool, req.body.domain, req.body.description, { testMode: req.body.test_mode ?? false }));
      return r.ok ? reply.code(201).send({ api_key: keyDoc(r.value) }) : r.reply;
    },
  );
  app.get<{ Params: NameParams }>(
    "/v1/admin/api-keys/:name",
    { schema: { tags, summary: "One domain API key (without its secret), test mode included", params: NameParams, response: { 200: Type.Object({ api_key: ApiKeyDoc }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.name", () => findApiKey(pool, req.params.name));
      return r.ok ? reply.send({ api_key: keyDoc(r.value) }) : r.reply;
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/api-keys/:name", { schema: { tags, summary: "Revoke a domain API key", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => revokeApiKey(pool, req.params.name));
    return r.ok ? reply.code(204).send() : r.reply;
  });
}
