import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { Broker } from "@correo/broker";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { testHttpApi } from "./test-api.js";
import { runCli } from "../../../packages/cli/test/run-cli.js";

/**
 * `correo … --json` prints the admin API's documents: for each object, the CLI's JSON
 * and the real admin API's answer (the submission service's app, on the same database)
 * are compared field for field.
 */
let infra: IsolatedInfra;
let app: FastifyInstance;
let adminKey: string;
const cli = (...args: string[]) => runCli([...args, "--json"], infra.env);

async function api(method: "GET" | "POST", url: string, body?: unknown): Promise<any> {
  const res = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}

/** The CLI's document, after a run that must succeed. */
async function doc(...args: string[]): Promise<any> {
  const r = await cli(...args);
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}

beforeAll(async () => {
  infra = await isolatedInfra("cli-json");
  const log = createLogger("test", "silent");
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  app = testHttpApi({ logger: log, pool: infra.pool, broker, amqpUrl: infra.amqpUrl, prefix: infra.prefix });
  await app.ready();
  adminKey = (await doc("adminkey", "create", "--description", "cli-json")).admin_key.token;
});

afterAll(async () => {
  await app?.close();
  await infra?.cleanup();
});

describe("correo --json uses the admin API's documents", () => {
  it("domains and alias domains", async () => {
    const added = (await doc("domain", "add", "example.test")).domain;
    const created = (await api("POST", "/v1/admin/domains", { name: "other.test", catch_all: "x@other.test" })).domain;
    expect(Object.keys(added).sort()).toEqual(Object.keys(created).sort());
    const catchAll = (await doc("domain", "catch-all", "example.test", "ana@example.test")).domain;
    expect(catchAll).toEqual({ ...added, catch_all: "ana@example.test" });
    const put = await app.inject({
      method: "PUT",
      url: "/v1/admin/domains/other.test/catch-all",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      payload: JSON.stringify({ address: null }),
    });
    expect(Object.keys(catchAll).sort()).toEqual(Object.keys(put.json().domain).sort());
    const alias = (await doc("domain", "alias-add", "example-alias.test", "example.test")).domain_alias;
    expect(alias).toEqual((await api("GET", "/v1/admin/domain-aliases")).domain_aliases[0]);
    expect(await doc("domain", "alias-list")).toEqual(await api("GET", "/v1/admin/domain-aliases"));
    expect(await doc("domain", "list")).toEqual(await api("GET", "/v1/admin/domains"));
    expect((await doc("domain", "list")).domains[0]).toMatchObject({ name: "example.test", catch_all: "ana@example.test", alias_domains: ["example-alias.test"] });
  });

  it("templates", async () => {
    await doc("domain", "add", "templates.test");
    const added = (await doc("template", "add", "templates.test", "welcome", "--subject", "Hi {{name}}", "--text", "Hi {{name}}")).template;
    const listed = (await api("GET", "/v1/admin/domains/templates.test/templates")).templates;
    expect(listed).toEqual([added]);
    expect((await doc("template", "preview", "templates.test", "welcome", "--variables", '{"name":"Ana"}'))).toEqual(
      await api("POST", "/v1/admin/domains/templates.test/templates/welcome/preview", { variables: { name: "Ana" } }),
    );
  });

  it("a domain's inbound policy (issue 14): the same document from `correo domain policy` and PUT …/inbound-policy", async () => {
    const viaCli = (await doc("domain", "policy", "example.test", "quarantine-only")).domain;
    expect(viaCli).toMatchObject({ name: "example.test", inbound_policy: "quarantine-only" });
    expect((await doc("domain", "policy", "example.test")).domain).toEqual(viaCli);
    const put = await app.inject({
      method: "PUT",
      url: "/v1/admin/domains/other.test/inbound-policy",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      payload: JSON.stringify({ policy: "report-only" }),
    });
    expect(Object.keys(put.json().domain).sort()).toEqual(Object.keys(viaCli).sort());
    expect((await doc("domain", "policy", "example.test", "default")).domain.inbound_policy).toBeNull();
    const bad = await app.inject({
      method: "PUT",
      url: "/v1/admin/domains/other.test/inbound-policy",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      payload: JSON.stringify({ policy: "strict" }),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(bad.json().errors).toEqual([{ field: "body.policy", message: 'must be one of "enforce", "quarantine-only", "report-only", null' }]);
    const missing = await app.inject({
      method: "PUT",
      url: "/v1/admin/domains/nowhere.test/inbound-policy",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      payload: JSON.stringify({ policy: "enforce" }),
    });
    expect(missing.statusCode).toBe(404);
  });

  it("accounts", async () => {
    const added = (await doc("account", "add", "ana@example.test", "--password", "ana-secret-1", "--quota", "1M")).account;
    const created = (await api("POST", "/v1/admin/accounts", { address: "bea@example.test", password: "bea-secret-1" })).account;
    expect(Object.keys(added).sort()).toEqual(Object.keys(created).sort());
    expect(added).toMatchObject({ address: "ana@example.test", quota_bytes: 1048576, enabled: true });
    const patched = await app.inject({
      method: "PATCH",
      url: "/v1/admin/accounts/bea@example.test",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      payload: JSON.stringify({ password: "bea-secret-2" }),
    });
    expect((await doc("account", "passwd", "bea@example.test", "--password", "bea-secret-3")).account).toEqual(patched.json().account);
    expect((await doc("account", "disable", "bea@example.test")).account).toMatchObject({ ...created, enabled: false });
    expect(await doc("account", "list")).toEqual(await api("GET", "/v1/admin/accounts"));
  });

  it("aliases", async () => {
    const added = (await doc("alias", "add", "team@example.test", "ana@example.test", "friend@partner.test")).alias;
    expect(await doc("alias", "list")).toEqual(await api("GET", "/v1/admin/aliases"));
    expect((await doc("alias", "list")).aliases).toEqual([added]);
  });

  it("API keys, with the token only when created", async () => {
    const key = (await doc("apikey", "create", "--domain", "example.test", "--description", "news")).api_key;
    const created = (await api("POST", "/v1/admin/api-keys", { domain: "example.test" })).api_key;
    expect(Object.keys(key).sort()).toEqual(Object.keys(created).sort());
    expect(key.token).toMatch(/^correo_/);
    expect(await doc("apikey", "list")).toEqual(await api("GET", "/v1/admin/api-keys"));
    expect((await doc("apikey", "list")).api_keys[0]).not.toHaveProperty("token");
  });

  it("transports, without the AUTH password", async () => {
    const added = (await doc("transport", "add", "partner.test", "smart.partner.test:587", "--tls", "encrypt", "--user", "relay", "--password", "pw")).transport;
    const created = (await api("POST", "/v1/admin/transports", { domain: "*", host: "smarthost.test" })).transport;
    expect(Object.keys(added).sort()).toEqual(Object.keys(created).sort());
    expect(added).toMatchObject({ tls_policy: "encrypt", auth_username: "relay" });
    expect(JSON.stringify(await doc("transport", "list"))).not.toContain('"pw"');
    expect(await doc("transport", "list")).toEqual(await api("GET", "/v1/admin/transports"));
  });

  it("the relay queue: list, show and the actions", async () => {
    const id = await deferredDelivery("x@down.test");
    expect(await doc("queue", "list")).toEqual(await api("GET", "/v1/admin/queue"));
    expect((await doc("queue", "list")).queue[0]).toMatchObject({ id, envelope_from: "ana@example.test", last_response: "4.4.1 connection refused" });
    expect(await doc("queue", "show", id)).toEqual(await api("GET", `/v1/admin/queue/${id}`));
    const held = await doc("queue", "hold", id);
    expect(Object.keys(held)).toEqual(Object.keys(await api("POST", "/v1/admin/queue/release", { delivery_id: id })));
    expect(held).toEqual({ deliveries: [id] });
  });
});

/** A deferred remote delivery, as relay-queue leaves one after a refused connection. */
async function deferredDelivery(recipient: string): Promise<string> {
  const blob = randomUUID().replace(/-/g, "").padEnd(64, "0");
  await infra.pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, 1, 'x')", [blob]);
  const messageId = randomUUID();
  const id = randomUUID();
  await infra.pool.query(
    "INSERT INTO messages (id, blob_id, envelope_from, size, source, subject) VALUES ($1, $2, 'ana@example.test', 1, 'http', 'hola')",
    [messageId, blob],
  );
  await infra.pool.query(
    `INSERT INTO deliveries (id, message_id, recipient, state, route, attempts, next_attempt_at, last_response)
     VALUES ($1, $2, $3, 'deferred', 'remote', 1, now() + interval '1 hour', '4.4.1 connection refused')`,
    [id, messageId, recipient],
  );
  await infra.pool.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, now(), 'deferred', '4.4.1 connection refused')", [id]);
  return id;
}
