import type { FastifyInstance, FastifyReply } from "fastify";
import { Type, type Static } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import {
  addInboundRoute,
  findInboundRoute,
  inboundRouteDoc,
  listInboundRoutes,
  removeInboundRoute,
  updateInboundRoute,
  DEFAULT_GIVE_UP_AFTER_SECONDS,
  DEFAULT_INLINE_LIMIT_BYTES,
  MAX_GIVE_UP_AFTER_SECONDS,
  MAX_INLINE_LIMIT_BYTES,
  MIN_GIVE_UP_AFTER_SECONDS,
} from "@correo/directory";
import { attachmentOf, attachmentPath } from "@correo/inbound";
import { verifyLink } from "@correo/signed-post";
import type { Clock } from "@correo/spool";
import { getBlob } from "@correo/spool";
import { directoryCall } from "./admin/directory-problem.js";
import { requireApiKey } from "./auth.js";
import { problems, sendProblem } from "./problem.js";
import { problemResponses } from "./schemas.js";

// Inbound routes (issue 15 item 6): mail for an address or `*@` a domain, POSTed as JSON.
const EXAMPLE_ID = "5b0c9a52-8d3e-4c1e-9f51-2f7a0b3c4d5e";
export const InboundRouteDoc = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    domain: Type.String({ description: "the hosted domain the route belongs to" }),
    pattern: Type.String({ description: "`local@domain` or `*@domain` (domain: the route's or a subdomain of it), lower-cased" }),
    url: Type.String({ description: "the endpoint Correo POSTs each message to" }),
    inline_limit_bytes: Type.Integer({ description: "attachments up to this size are inline (base64); larger ones are a signed URL" }),
    give_up_after_seconds: Type.Integer({ description: "how long after arrival a failing endpoint is retried before the fallback" }),
    fallback: Type.String({ description: "`bounce` (a DSN to the sender) or `mailbox:<address>`" }),
    secret: Type.Optional(Type.String({ description: "the HMAC key of the Correo-Signature header; only in the answer that created the route" })),
    created_at: Type.String({ format: "date-time" }),
  },
  {
    examples: [
      {
        id: EXAMPLE_ID,
        domain: "example.com",
        pattern: "support@example.com",
        url: "https://app.example.com/hooks/mail",
        inline_limit_bytes: DEFAULT_INLINE_LIMIT_BYTES,
        give_up_after_seconds: DEFAULT_GIVE_UP_AFTER_SECONDS,
        fallback: "mailbox:helpdesk@example.com",
        secret: "whsec_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAA",
        created_at: "2026-12-02T14:00:00.000Z",
      },
    ],
  },
);
export const CreateInboundRoute = Type.Object(
  {
    pattern: Type.String({ minLength: 3, maxLength: 320, examples: ["support@example.com", "*@in.example.com"] }),
    url: Type.String({ minLength: 8, maxLength: 2048, examples: ["https://app.example.com/hooks/mail"] }),
    inline_limit_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INLINE_LIMIT_BYTES, default: DEFAULT_INLINE_LIMIT_BYTES })),
    give_up_after_seconds: Type.Optional(
      Type.Integer({ minimum: MIN_GIVE_UP_AFTER_SECONDS, maximum: MAX_GIVE_UP_AFTER_SECONDS, default: DEFAULT_GIVE_UP_AFTER_SECONDS }),
    ),
    fallback: Type.Optional(Type.String({ pattern: "^(bounce|mailbox:.+@.+)$", default: "bounce", examples: ["bounce", "mailbox:helpdesk@example.com"] })),
  },
  { additionalProperties: false, examples: [{ pattern: "support@example.com", url: "https://app.example.com/hooks/mail", fallback: "mailbox:helpdesk@example.com" }] },
);
export type CreateInboundRoute = Static<typeof CreateInboundRoute>;
export const UpdateInboundRoute = Type.Object(
  {
    url: Type.Optional(CreateInboundRoute.properties.url),
    inline_limit_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INLINE_LIMIT_BYTES })),
    give_up_after_seconds: Type.Optional(Type.Integer({ minimum: MIN_GIVE_UP_AFTER_SECONDS, maximum: MAX_GIVE_UP_AFTER_SECONDS })),
    fallback: Type.Optional(Type.String({ pattern: "^(bounce|mailbox:.+@.+)$" })),
    rotate_secret: Type.Optional(Type.Boolean({ description: "true: a new secret, in this answer only; the old one stops signing at once" })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ url: "https://app.example.com/hooks/mail-v2", rotate_secret: true }] },
);
export type UpdateInboundRoute = Static<typeof UpdateInboundRoute>;
export const RouteIdParams = Type.Object({ id: Type.String({ format: "uuid" }) });
export type RouteIdParams = Static<typeof RouteIdParams>;

const FIELDS = { pattern: "body.pattern", url: "body.url", inlineLimitBytes: "body.inline_limit_bytes", giveUpAfterSeconds: "body.give_up_after_seconds", fallback: "body.fallback", domain: "params.domain" };

/** The operations both APIs offer on one domain's routes (the API key's, or the admin's `:domain`). */
export const inboundRouteOps = (pool: Pool) => ({
  list: async (domain: string) => ({ inbound_routes: (await listInboundRoutes(pool, domain)).map((r) => inboundRouteDoc(r)) }),
  async create(reply: FastifyReply, domain: string, body: CreateInboundRoute) {
    const r = await directoryCall(
      reply,
      "body",
      () =>
        addInboundRoute(pool, domain, {
          pattern: body.pattern,
          url: body.url,
          ...(body.inline_limit_bytes === undefined ? {} : { inlineLimitBytes: body.inline_limit_bytes }),
          ...(body.give_up_after_seconds === undefined ? {} : { giveUpAfterSeconds: body.give_up_after_seconds }),
          ...(body.fallback === undefined ? {} : { fallback: body.fallback }),
        }),
      FIELDS,
    );
    return r.ok ? reply.code(201).send({ inbound_route: inboundRouteDoc(r.value, { withSecret: true }) }) : r.reply;
  },
  async get(reply: FastifyReply, domain: string, id: string) {
    const route = await findInboundRoute(pool, id);
    if (!route || route.domain !== domain) return sendProblem(reply, problems.notFound(`no inbound route ${id} in ${domain}`, "params.id"));
    return reply.send({ inbound_route: inboundRouteDoc(route) });
  },
  async update(reply: FastifyReply, domain: string, id: string, body: UpdateInboundRoute) {
    const r = await directoryCall(
      reply,
      "body",
      () =>
        updateInboundRoute(pool, domain, id, {
          ...(body.url === undefined ? {} : { url: body.url }),
          ...(body.inline_limit_bytes === undefined ? {} : { inlineLimitBytes: body.inline_limit_bytes }),
          ...(body.give_up_after_seconds === undefined ? {} : { giveUpAfterSeconds: body.give_up_after_seconds }),
          ...(body.fallback === undefined ? {} : { fallback: body.fallback }),
          ...(body.rotate_secret ? { rotateSecret: true } : {}),
        }),
      { ...FIELDS, id: "params.id" },
    );
    return r.ok ? reply.send({ inbound_route: inboundRouteDoc(r.value, { withSecret: body.rotate_secret === true }) }) : r.reply;
  },
  async remove(reply: FastifyReply, domain: string, id: string) {
    const r = await directoryCall(reply, "params.id", () => removeInboundRoute(pool, domain, id), { id: "params.id" });
    return r.ok ? reply.code(204).send() : r.reply;
  },
});

const Single = Type.Object({ inbound_route: InboundRouteDoc });
const List = Type.Object({ inbound_routes: Type.Array(InboundRouteDoc) });

/** `/v1/inbound-routes`: the routes of the API key's domain. */
export async function inboundRoutesApi(app: FastifyInstance, opts: { pool: Pool }): Promise<void> {
  requireApiKey(app, opts.pool);
  const ops = inboundRouteOps(opts.pool);
  const common = { tags: ["inbound routes"], security: [{ apiKey: [] }] };
  app.get("/v1/inbound-routes", { schema: { ...common, summary: "List the inbound routes of the key's domain", response: { 200: List, ...problemResponses } } }, (req) =>
    ops.list(req.apiKey.domain),
  );
  app.post<{ Body: CreateInboundRoute }>(
    "/v1/inbound-routes",
    {
      schema: {
        ...common,
        summary: "Route mail for an address or `*@domain` to an HTTP endpoint; the answer shows the signing secret, once",
        body: CreateInboundRoute,
        response: { 201: Single, ...problemResponses },
      },
    },
    (req, reply) => ops.create(reply, req.apiKey.domain, req.body),
  );
  app.get<{ Params: RouteIdParams }>(
    "/v1/inbound-routes/:id",
    { schema: { ...common, summary: "One inbound route (without its secret)", params: RouteIdParams, response: { 200: Single, ...problemResponses } } },
    (req, reply) => ops.get(reply, req.apiKey.domain, req.params.id),
  );
  app.patch<{ Params: RouteIdParams; Body: UpdateInboundRoute }>(
    "/v1/inbound-routes/:id",
    {
      schema: {
        ...common,
        summary: "Change a route's URL, attachment limit, give-up time or fallback, or rotate its secret (shown once)",
        params: RouteIdParams,
        body: UpdateInboundRoute,
        response: { 200: Single, ...problemResponses },
      },
    },
    (req, reply) => ops.update(reply, req.apiKey.domain, req.params.id, req.body),
  );
  app.delete<{ Params: RouteIdParams }>(
    "/v1/inbound-routes/:id",
    { schema: { ...common, summary: "Remove an inbound route (the address reaches its account or alias again, if any)", params: RouteIdParams } },
    (req, reply) => ops.remove(reply, req.apiKey.domain, req.params.id),
  );
}

const AttachmentParams = Type.Object({ id: Type.String({ format: "uuid" }), delivery: Type.String({ format: "uuid" }), index: Type.String({ pattern: "^(0|[1-9][0-9]{0,4})$", description: "the attachment's `index` in the POST" }) });
type AttachmentParams = Static<typeof AttachmentParams>;
const AttachmentQuery = Type.Object({ expires: Type.Optional(Type.String()), signature: Type.Optional(Type.String()) });
type AttachmentQuery = Static<typeof AttachmentQuery>;

/**
 * The signed link of an attachment too big to inline. No API key: the link's signature
 * (the route's secret) is the credential; a tampered link is 403, an expired one 410.
 */
export async function inboundAttachmentRoute(app: FastifyInstance, opts: { pool: Pool; clock: Clock }): Promise<void> {
  app.get<{ Params: AttachmentParams; Querystring: AttachmentQuery }>(
    "/v1/inbound-routes/:id/deliveries/:delivery/attachments/:index",
    {
      schema: {
        tags: ["inbound routes"],
        summary: "An attachment of a message POSTed to an inbound route, through the signed link in the POST",
        params: AttachmentParams,
        querystring: AttachmentQuery,
        response: { 200: { description: "the attachment's content, with its Content-Type", content: { "application/octet-stream": { schema: {} } } }, ...problemResponses, 410: problemResponses[404] },
      },
    },
    async (req, reply) => {
      const { id, delivery } = req.params;
      const index = Number(req.params.index);
      const route = await findInboundRoute(opts.pool, id);
      if (!route) return sendProblem(reply, problems.notFound(`no inbound route ${id} (removed?)`, "params.id"));
      const check = verifyLink(route.secret, attachmentPath(id, delivery, index), req.query.expires, req.query.signature, opts.clock.now());
      if (!check.valid && check.reason === "expired") {
        return sendProblem(reply, { title: "Gone", status: 410, detail: "this attachment link has expired", errors: [{ field: "query.expires", message: "in the past" }] });
      }
      if (!check.valid) {
        const detail = check.reason === "malformed" ? "the link needs its expires and signature parameters" : "the link's signature does not match (altered link, or the route's secret changed)";
        return sendProblem(reply, problems.forbidden(detail, "query.signature"));
      }
      const { rows } = await opts.pool.query<{ blob_id: string }>(
        "SELECT m.blob_id FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.id = $1",
        [delivery],
      );
      const raw = rows[0] && (await getBlob(opts.pool, rows[0].blob_id));
      if (!raw) return sendProblem(reply, problems.notFound(`message of delivery ${delivery} is no longer in the spool`, "params.delivery"));
      const part = await attachmentOf(raw, index);
      if (!part) return sendProblem(reply, problems.notFound(`the message has no attachment ${index}`, "params.index"));
      reply.header("content-type", part.contentType || "application/octet-stream");
      if (part.filename) reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(part.filename)}`);
      return reply.send(part.content);
    },
  );
}
