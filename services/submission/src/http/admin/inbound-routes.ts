import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { normalizeDomain } from "@correo/directory";
import { CreateInboundRoute, InboundRouteDoc, inboundRouteOps, UpdateInboundRoute } from "../inbound-routes.js";

const DomainParams = Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }) });
const DomainRouteParams = Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }), id: Type.String({ format: "uuid" }) });

/** Any domain's inbound routes, as `pnpm correo route …` manages them. */
export async function inboundRouteAdminRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: inbound routes"];
  const ops = inboundRouteOps(pool);
  const name = (d: string) => normalizeDomain(d) ?? d;
  app.get<{ Params: { domain: string } }>(
    "/v1/admin/domains/:domain/inbound-routes",
    { schema: { tags, summary: "List a domain's inbound routes", params: DomainParams, response: { 200: Type.Object({ inbound_routes: Type.Array(InboundRouteDoc) }) } } },
    (req) => ops.list(name(req.params.domain)),
  );
  app.post<{ Params: { domain: string }; Body: CreateInboundRoute }>(
    "/v1/admin/domains/:domain/inbound-routes",
    { schema: { tags, summary: "Add an inbound route; the answer shows its secret, once", params: DomainParams, body: CreateInboundRoute, response: { 201: Type.Object({ inbound_route: InboundRouteDoc }) } } },
    (req, reply) => ops.create(reply, name(req.params.domain), req.body),
  );
  app.get<{ Params: { domain: string; id: string } }>(
    "/v1/admin/domains/:domain/inbound-routes/:id",
    { schema: { tags, summary: "One inbound route", params: DomainRouteParams, response: { 200: Type.Object({ inbound_route: InboundRouteDoc }) } } },
    (req, reply) => ops.get(reply, name(req.params.domain), req.params.id),
  );
  app.patch<{ Params: { domain: string; id: string }; Body: UpdateInboundRoute }>(
    "/v1/admin/domains/:domain/inbound-routes/:id",
    { schema: { tags, summary: "Change an inbound route, or rotate its secret (shown once)", params: DomainRouteParams, body: UpdateInboundRoute, response: { 200: Type.Object({ inbound_route: InboundRouteDoc }) } } },
    (req, reply) => ops.update(reply, name(req.params.domain), req.params.id, req.body),
  );
  app.delete<{ Params: { domain: string; id: string } }>(
    "/v1/admin/domains/:domain/inbound-routes/:id",
    { schema: { tags, summary: "Remove an inbound route", params: DomainRouteParams } },
    (req, reply) => ops.remove(reply, name(req.params.domain), req.params.id),
  );
}
