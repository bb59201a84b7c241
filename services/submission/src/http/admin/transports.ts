import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { addTransport, listTransports, removeTransport, transportDoc } from "@correo/directory";
import { directoryCall } from "./directory-problem.js";
import { CreateTransport, NameParams, TransportDoc } from "./schemas.js";

/** Transport overrides per domain or '*' (smarthost): `pnpm correo transport …`. */
export async function transportRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: transports"];
  app.get(
    "/v1/admin/transports",
    { schema: { tags, summary: "List transport overrides", response: { 200: Type.Object({ transports: Type.Array(TransportDoc) }) } } },
    async () => ({ transports: (await listTransports(pool)).map(transportDoc) }),
  );
  app.post<{ Body: CreateTransport }>(
    "/v1/admin/transports",
    { schema: { tags, summary: "Add a transport override (a domain's or every remote domain's next hop)", body: CreateTransport, response: { 201: Type.Object({ transport: TransportDoc }) } } },
    async (req, reply) => {
      const b = req.body;
      const r = await directoryCall(reply, "body.domain", () =>
        addTransport(pool, b.domain, b.host, b.port ?? 25, { ...(b.tls_policy ? { tlsPolicy: b.tls_policy } : {}), ...(b.auth ? { auth: b.auth } : {}) }),
      );
      return r.ok ? reply.code(201).send({ transport: transportDoc(r.value) }) : r.reply;
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/transports/:name", { schema: { tags, summary: "Remove a transport override", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => removeTransport(pool, req.params.name));
    return r.ok ? reply.code(204).send() : r.reply;
  });
}
