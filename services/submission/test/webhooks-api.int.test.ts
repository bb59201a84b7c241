import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { Broker } from "@correo/broker";
import { createApiKey, createAdminKey, addDomain } from "@correo/directory";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { testHttpApi } from "./test-api.js";
import { runCli } from "../../../packages/cli/test/run-cli.js";

/**
 * The webhook routes of the HTTP API (an API key sees its own domain only) and of the
 * admin API (any domain), their precise refusals, and the CLI's documents beside them.
 */
let infra: IsolatedInfra;
let app: FastifyInstance;
let strict: FastifyInstance;
let hostedKey: string;
let otherKey: string;
let adminKey: string;

beforeAll(async () => {
  infra = await isolatedInfra("webhooks-api");
  const log = createLogger("test", "silent");
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  const base = { logger: log, pool: infra.pool, broker, amqpUrl: infra.amqpUrl, prefix: infra.prefix };
  app = testHttpApi({ ...base, webhooks: { allowHttp: true, testTimeoutMs: 1000 } });
  strict = testHttpApi(base);
  await app.ready();
  await strict.ready();
  await addDomain(infra.pool, "hosted.test");
  await addDomain(infra.pool, "other.test");
  hostedKey = (await createApiKey(infra.pool, "hosted.test")).token;
  otherKey = (await createApiKey(infra.pool, "other.test")).token;
  adminKey = (await createAdminKey(infra.pool, "webhooks-api")).token;
});

afterAll(async () => {
  await app?.close();
  await strict?.close();
  await infra?.cleanup();
});

const call = async (method: string, url: string, key: string | undefined, body?: unknown, on = app) => {
  const res = await on.inject({
    method: method as "GET",
    url,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined };
};

describe("webhook endpoints over HTTP", () => {
  it("creates an endpoint for the API key's domain, shows its secret once, and hides it from other domains", async () => {
    const created = await call("POST", "/v1/webhooks", hostedKey, { url: "http://127.0.0.1:9/hook", event_types: ["bounced"] });
    expect(created.status).toBe(201);
    const w = created.body.webhook;
    expect(w).toMatchObject({ domain: "hosted.test", url: "http://127.0.0.1:9/hook", event_types: ["bounced"], enabled: true, secret: expect.stringMatching(/^whsec_/) });
    expect((await call("GET", `/v1/webhooks/${w.id}`, hostedKey)).body.webhook.secret).toBeUndefined();
    expect((await call("GET", "/v1/webhooks", hostedKey)).body.webhooks.map((x: any) => x.id)).toEqual([w.id]);
    // Another domain's key: not there at all.
    expect((await call("GET", `/v1/webhooks/${w.id}`, otherKey)).status).toBe(404);
    expect((await call("DELETE", `/v1/webhooks/${w.id}`, otherKey)).status).toBe(404);
    expect((await call("GET", "/v1/webhooks", otherKey)).body.webhooks).toEqual([]);
    // The admin API sees it under its domain, and the CLI prints the same document.
    const viaAdmin = await call("GET", "/v1/admin/domains/hosted.test/webhooks", adminKey);
    expect(viaAdmin.body.webhooks).toEqual([{ ...w, secret: undefined }].map(({ secret: _, ...x }) => x));
    const r = await runCli(["webhook", "list", "--domain", "hosted.test", "--json"], infra.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual(viaAdmin.body);
    // Rotation shows the new secret once.
    const rotated = await call("POST", `/v1/webhooks/${w.id}/rotate-secret`, hostedKey);
    expect(rotated.body.webhook.secret).toMatch(/^whsec_/);
    expect(rotated.body.webhook.secret).not.toBe(w.secret);
    // Disabled by hand, with a reason; enabled again.
    const off = await call("PATCH", `/v1/webhooks/${w.id}`, hostedKey, { enabled: false, disabled_reason: "maintenance" });
    expect(off.body.webhook).toMatchObject({ enabled: false, disabled_reason: "maintenance", disabled_at: expect.any(String) });
    const on = await call("PATCH", `/v1/webhooks/${w.id}`, hostedKey, { enabled: true });
    expect(on.body.webhook).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });
    expect((await call("DELETE", `/v1/admin/domains/hosted.test/webhooks/${w.id}`, adminKey)).status).toBe(204);
    expect((await call("GET", `/v1/webhooks/${w.id}`, hostedKey)).status).toBe(404);
  });

  it("refuses bad input with the field at fault", async () => {
    const problem = async (r: Promise<{ status: number; body: any }>, status: number, field: string) => {
      const { status: s, body } = await r;
      expect(s, JSON.stringify(body)).toBe(status);
      expect(body.errors.map((e: any) => e.field)).toContain(field);
      return body;
    };
    const https = await problem(call("POST", "/v1/webhooks", hostedKey, { url: "http://127.0.0.1:9/hook" }, strict), 400, "body.url");
    expect(https.detail).toContain("https only");
    await problem(call("POST", "/v1/webhooks", hostedKey, { url: "ftp://files.example/" }), 400, "body.url");
    await problem(call("POST", "/v1/webhooks", hostedKey, { url: "https://x.example/", event_types: ["sent"] }), 400, "body.event_types.0");
    await problem(call("POST", "/v1/webhooks", hostedKey, { url: "https://x.example/", colour: "red" }), 400, "body.colour");
    await problem(call("GET", "/v1/webhooks/not-a-uuid", hostedKey), 400, "params.id");
    await problem(call("GET", "/v1/admin/domains/nowhere.test/webhooks", adminKey), 404, "params.domain");
    await problem(call("GET", "/v1/events?type=sent", hostedKey), 400, "query.type");
    await problem(call("GET", "/v1/events?cursor=bm9wZQ", hostedKey), 400, "query.cursor");
    await problem(call("GET", "/v1/events?limit=0", hostedKey), 400, "query.limit");
    await problem(call("GET", "/v1/events?domain=other.test", hostedKey), 400, "query.domain");
    await problem(call("GET", "/v1/events?message_id=42", hostedKey), 400, "query.message_id");
    expect((await call("GET", "/v1/webhooks", undefined)).status).toBe(401);
    expect((await call("GET", "/v1/admin/events", hostedKey)).status).toBe(401);
  });

  it("test answers what the endpoint said, or why it said nothing", async () => {
    const w = (await call("POST", "/v1/webhooks", hostedKey, { url: "http://127.0.0.1:1/nobody" })).body.webhook;
    const t = await call("POST", `/v1/webhooks/${w.id}/test`, hostedKey);
    expect(t.body).toMatchObject({ ok: false, status: null, error: "ECONNREFUSED", event: { type: "test" } });
    const replay = await call("POST", `/v1/webhooks/${w.id}/events/evt_99999/replay`, hostedKey);
    expect(replay.status).toBe(404);
    expect(replay.body.errors[0].field).toBe("params.event_id");
  });
});
