import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import {
  addDomain,
  addDomainAlias,
  listDomainAliases,
  listDomains,
  removeDomain,
  removeDomainAlias,
  setCatchAll,
  setInboundPolicy,
  domainDoc,
  domainAliasDoc as aliasDoc,
} from "@correo/directory";
import { directoryCall } from "./directory-problem.js";
import { CreateDomain, CreateDomainAlias, DomainAliasDoc, DomainDoc, NameParams, SetCatchAll, SetInboundPolicy } from "./schemas.js";


/** Hosted domains, their catch-all, and alias domains: `pnpm correo domain …`. */
export async function domainRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: domains"];
  app.get(
    "/v1/admin/domains",
    { schema: { tags, summary: "List hosted domains with their accounts, catch-all and alias domains", response: { 200: Type.Object({ domains: Type.Array(DomainDoc) }) } } },
    async () => ({ domains: (await listDomains(pool)).map(domainDoc) }),
  );
  app.post<{ Body: CreateDomain }>(
    "/v1/admin/domains",
    { schema: { tags, summary: "Host a domain", body: CreateDomain, response: { 201: Type.Object({ domain: DomainDoc }) } } },
    async (req, reply) => {
      const opts = req.body.catch_all === undefined ? {} : { catchAll: req.body.catch_all };
      const r = await directoryCall(reply, "body.name", () => addDomain(pool, req.body.name, opts));
      return r.ok ? reply.code(201).send({ domain: domainDoc(r.value) }) : r.reply;
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/domains/:name", { schema: { tags, summary: "Stop hosting a domain", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => removeDomain(pool, req.params.name), { name: "params.name" });
    return r.ok ? reply.code(204).send() : r.reply;
  });
  app.put<{ Params: NameParams; Body: SetCatchAll }>(
    "/v1/admin/domains/:name/catch-all",
    { schema: { tags, summary: "Set or clear a domain's catch-all address", params: NameParams, body: SetCatchAll, response: { 200: Type.Object({ domain: DomainDoc }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.name", () => setCatchAll(pool, req.params.name, req.body.address), {
        name: "params.name",
        catchAll: "body.address",
      });
      return r.ok ? { domain: domainDoc(r.value) } : r.reply;
    },
  );
  app.put<{ Params: NameParams; Body: SetInboundPolicy }>(
    "/v1/admin/domains/:name/inbound-policy",
    {
      schema: {
        tags,
        summary: "Set a domain's inbound authentication policy (enforce, quarantine-only, report-only) or null for the default",
        params: NameParams,
        body: SetInboundPolicy,
        response: { 200: Type.Object({ domain: DomainDoc }) },
      },
    },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.name", () => setInboundPolicy(pool, req.params.name, req.body.policy), {
        name: "params.name",
        inbound_policy: "body.policy",
      });
      return r.ok ? { domain: domainDoc(r.value) } : r.reply;
    },
  );

  app.get(
    "/v1/admin/domain-aliases",
    { schema: { tags, summary: "List alias domains", response: { 200: Type.Object({ domain_aliases: Type.Array(DomainAliasDoc) }) } } },
    async () => ({ domain_aliases: (await listDomainAliases(pool)).map(aliasDoc) }),
  );
  app.post<{ Body: CreateDomainAlias }>(
    "/v1/admin/domain-aliases",
    { schema: { tags, summary: "Add an alias domain for a hosted domain", body: CreateDomainAlias, response: { 201: Type.Object({ domain_alias: DomainAliasDoc }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "body.name", () => addDomainAlias(pool, req.body.name, req.body.domain));
      if (!r.ok) return r.reply;
      return reply.code(201).send({ domain_alias: aliasDoc(r.value) });
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/domain-aliases/:name", { schema: { tags, summary: "Remove an alias domain", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => removeDomainAlias(pool, req.params.name));
    return r.ok ? reply.code(204).send() : r.reply;
  });
}
