import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Pool } from "@correo/db";
import type { Clock } from "@correo/spool";
import {
  createEndpoint,
  decodeEventCursor,
  deleteEndpoint,
  listAttempts,
  listEndpoints,
  listEvents,
  replayEvent,
  requireEndpoint,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
  WebhookError,
} from "@correo/webhooks";
import { attemptDoc, endpointDoc, webhookCall } from "./documents.js";
import {
  AttemptPage,
  AttemptQuery,
  CreateEndpoint,
  EndpointList,
  EndpointResponse,
  EventPage,
  EventQuery,
  IdParams,
  ReplayParams,
  ReplayResult,
  TestResult,
  UpdateEndpoint,
  DomainParams,
} from "./schemas.js";

export interface WebhookRouteOptions {
  pool: Pool;
  clock: Clock;
  /** WEBHOOK_ALLOW_HTTP: http:// endpoints accepted (tests, loopback). */
  allowHttp: boolean;
  /** How long `POST …/test` waits for the endpoint. */
  testTimeoutMs: number;
}

type Security = { [label: string]: string[] }[];
type Params = { domain?: string; id: string; event_id?: string };

/**
 * The webhook endpoint routes, mounted twice: under /v1/webhooks for the API key's
 * domain (`scope` returns it) and under /v1/admin/domains/:domain/webhooks for any domain.
 */
export function webhookRoutes(
  app: FastifyInstance,
  o: WebhookRouteOptions,
  mount: { base: string; admin: boolean; tags: string[]; security?: Security; scope: (req: FastifyRequest) => string },
): void {
  const { base, admin, tags } = mount;
  const schema = (s: object) => ({ tags, ...(mount.security ? { security: mount.security } : {}), ...s });
  const scope = (req: FastifyRequest) => mount.scope(req);
  const params = IdParams(admin);
  const p = (req: FastifyRequest) => req.params as Params;

  app.get(base, { schema: schema({ summary: "List webhook endpoints", ...(admin ? { params: DomainParams } : {}), response: { 200: EndpointList } }) }, async (req, reply) => {
    const r = await webhookCall(reply, async () => {
      const domain = scope(req);
      if (admin && !(await domainExists(o.pool, domain))) throw new WebhookError("not-found", "domain", `no hosted domain ${domain}`);
      return listEndpoints(o.pool, domain);
    });
    return r.ok ? { webhooks: r.value.map((e) => endpointDoc(e)) } : r.reply;
  });

  app.post<{ Body: CreateEndpoint }>(
    base,
    { schema: schema({ summary: "Create a webhook endpoint; its secret is shown once", ...(admin ? { params: DomainParams } : {}), body: CreateEndpoint, response: { 201: EndpointResponse } }) },
    async (req, reply) => {
      const b = req.body;
      const r = await webhookCall(reply, () =>
        createEndpoint(o.pool, scope(req), { url: b.url, eventTypes: b.event_types, description: b.description ?? null }, { allowHttp: o.allowHttp, now: o.clock.now() }),
      );
      return r.ok ? reply.code(201).send({ webhook: endpointDoc(r.value.endpoint, r.value.secret) }) : r.reply;
    },
  );

  app.get(`${base}/:id`, { schema: schema({ summary: "Show a webhook endpoint", params, response: { 200: EndpointResponse } }) }, async (req, reply) => {
    const r = await webhookCall(reply, () => requireEndpoint(o.pool, p(req).id, scope(req)));
    return r.ok ? { webhook: endpointDoc(r.value) } : r.reply;
  });

  app.patch<{ Body: UpdateEndpoint }>(
    `${base}/:id`,
    { schema: schema({ summary: "Change a webhook endpoint: URL, event types, description, enabled", params, body: UpdateEndpoint, response: { 200: EndpointResponse } }) },
    async (req, reply) => {
      const b = req.body;
      const r = await webhookCall(reply, () =>
        updateEndpoint(
          o.pool,
          p(req).id,
          scope(req),
          {
            ...(b.url !== undefined ? { url: b.url } : {}),
            ...(b.event_types !== undefined ? { eventTypes: b.event_types } : {}),
            ...(b.description !== undefined ? { description: b.description } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
            ...(b.disabled_reason !== undefined ? { disabledReason: b.disabled_reason } : {}),
          },
          { allowHttp: o.allowHttp, now: o.clock.now() },
        ),
      );
      return r.ok ? { webhook: endpointDoc(r.value) } : r.reply;
    },
  );

  app.delete(`${base}/:id`, { schema: schema({ summary: "Delete a webhook endpoint and its delivery history", params }) }, async (req, reply) => {
    const r = await webhookCall(reply, () => deleteEndpoint(o.pool, p(req).id, scope(req)));
    return r.ok ? reply.code(204).send() : r.reply;
  });

  app.post(
    `${base}/:id/rotate-secret`,
    { schema: schema({ summary: "New signing secret, shown once; the old one also signs for 24 h", params, response: { 200: EndpointResponse } }) },
    async (req, reply) => {
      const r = await webhookCall(reply, () => rotateSecret(o.pool, p(req).id, scope(req), o.clock.now()));
      return r.ok ? { webhook: endpointDoc(r.value.endpoint, r.value.secret) } : r.reply;
    },
  );

  app.post(
    `${base}/:id/test`,
    { schema: schema({ summary: "Send a signed 'test' event now and return the endpoint's answer", params, response: { 200: TestResult } }) },
    async (req, reply) => {
      const r = await webhookCall(reply, () => sendTestEvent(o.pool, p(req).id, scope(req), { now: () => o.clock.now(), timeoutMs: o.testTimeoutMs }));
      if (!r.ok) return r.reply;
      const { event, result } = r.value;
      return {
        event,
        status: result.status,
        ok: result.status !== null && result.status >= 200 && result.status < 300,
        duration_ms: result.durationMs,
        error: result.error,
        response_excerpt: result.responseExcerpt,
      };
    },
  );

  app.get<{ Querystring: AttemptQuery }>(
    `${base}/:id/attempts`,
    { schema: schema({ summary: "Delivery attempts to this endpoint, newest first", params, querystring: AttemptQuery, response: { 200: AttemptPage } }) },
    async (req, reply) => {
      const q = req.query;
      const r = await webhookCall(reply, () =>
        listAttempts(o.pool, p(req).id, scope(req), { ...(q.event_id ? { eventId: q.event_id } : {}), ...(q.cursor ? { before: q.cursor } : {}), limit: pageLimit(q.limit) }),
      );
      return r.ok ? { attempts: r.value.attempts.map(attemptDoc), next_cursor: r.value.next } : r.reply;
    },
  );

  app.post(
    `${base}/:id/events/:event_id/replay`,
    { schema: schema({ summary: "Send one event to this endpoint again, now", params: ReplayParams(admin), response: { 202: ReplayResult } }) },
    async (req, reply) => {
      const { id, event_id } = p(req);
      const r = await webhookCall(reply, () => replayEvent(o.pool, id, scope(req), event_id!, o.clock.now()));
      return r.ok ? reply.code(202).send({ event_id: event_id!, webhook_delivery_id: r.value.id, state: "pending" }) : r.reply;
    },
  );
}

/** GET /v1/events (the API key's domain) and /v1/admin/events (any, or ?domain=). */
export function eventsRoute(
  app: FastifyInstance,
  o: Pick<WebhookRouteOptions, "pool">,
  mount: { path: string; tags: string[]; security?: Security; scope: (req: FastifyRequest<{ Querystring: EventQuery }>) => string | undefined },
): void {
  app.get<{ Querystring: EventQuery }>(
    mount.path,
    {
      schema: {
        tags: mount.tags,
        ...(mount.security ? { security: mount.security } : {}),
        summary: "Events (the delivery timeline), newest first; filter by type, recipient, message, tag and time",
        querystring: EventQuery,
        response: { 200: EventPage },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const r = await webhookCall(reply, async () => {
        const before = q.cursor !== undefined ? decodeEventCursor(q.cursor) : undefined;
        if (q.cursor !== undefined && before === undefined) throw new WebhookError("invalid", "cursor", "not a cursor this API gave out");
        const domain = mount.scope(req);
        return listEvents(o.pool, {
          ...(domain !== undefined ? { domain } : {}),
          ...(q.type ? { types: q.type.split(",").map((t) => t.trim()) } : {}),
          ...(q.recipient ? { recipient: q.recipient } : {}),
          ...(q.message_id ? { messageId: q.message_id } : {}),
          ...(q.tag ? { tag: q.tag } : {}),
          ...(q.since ? { since: new Date(q.since) } : {}),
          ...(q.until ? { until: new Date(q.until) } : {}),
          ...(before ? { before } : {}),
          limit: pageLimit(q.limit),
        });
      });
      return r.ok ? { events: r.value.events, next_cursor: r.value.next } : r.reply;
    },
  );
}

function pageLimit(text: string | undefined): number {
  const n = text === undefined ? 50 : Number(text);
  if (!(n >= 1 && n <= 100)) throw new WebhookError("invalid", "limit", `limit must be 1–100, not ${text}`);
  return n;
}

async function domainExists(pool: Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query("SELECT 1 FROM domains WHERE name = lower($1)", [name]);
  return rows.length > 0;
}
