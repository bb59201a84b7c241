import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { addAlias, addressProblem, aliasDoc, listAliases, removeAlias } from "@correo/directory";
import { problems, sendProblem } from "../problem.js";
import { directoryCall } from "./directory-problem.js";
import { AliasDoc, CreateAlias, DomainQuery, NameParams } from "./schemas.js";

/** Aliases: one address to many targets, local or external (forwarding): `pnpm correo alias …`. */
export async function aliasRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: aliases"];
  app.get<{ Querystring: DomainQuery }>(
    "/v1/admin/aliases",
    { schema: { tags, summary: "List aliases, optionally of one domain", querystring: DomainQuery, response: { 200: Type.Object({ aliases: Type.Array(AliasDoc) }) } } },
    async (req) => ({ aliases: (await listAliases(pool, req.query.domain)).map(aliasDoc) }),
  );
  app.post<{ Body: CreateAlias }>(
    "/v1/admin/aliases",
    { schema: { tags, summary: "Create an alias", body: CreateAlias, response: { 201: Type.Object({ alias: AliasDoc }) } } },
    async (req, reply) => {
      // Name the very target at fault, not just the list.
      const bad = req.body.targets.map((t, i) => ({ t, i, why: addressProblem(t) })).filter(({ why }) => why);
      if (bad.length > 0) {
        return sendProblem(reply, problems.invalid(bad.map(({ t, i, why }) => ({ field: `body.targets[${i}]`, message: `'${t}' ${why}` }))));
      }
      const r = await directoryCall(reply, "body.address", () => addAlias(pool, req.body.address, req.body.targets));
      return r.ok ? reply.code(201).send({ alias: aliasDoc(r.value) }) : r.reply;
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/aliases/:name", { schema: { tags, summary: "Delete an alias", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => removeAlias(pool, req.params.name));
    return r.ok ? reply.code(204).send() : r.reply;
  });
}
