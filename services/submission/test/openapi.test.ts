import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { Broker, DeadLetterQueue } from "@correo/broker";
import { createPool, type Pool } from "@correo/db";
import { OPENAPI_VERSION } from "@correo/http-problem";
import { Outbox, systemClock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { buildHttpApi } from "../src/http/app.js";

/**
 * The OpenAPI document of the submission API and its admin API: every admin operation
 * has a summary, the admin key as its security, and its 4xx errors as problem+json;
 * the document's version is the one the mailbox API publishes too. Nothing is
 * connected: building the document needs no server.
 */
const log = createLogger("test", "silent");
let pool: Pool;
let app: FastifyInstance;
let doc: any;

beforeAll(async () => {
  pool = createPool("postgres://postgres@127.0.0.1:1/correo_openapi");
  app = buildHttpApi({
    logger: log,
    pool,
    outbox: new Outbox(pool, new Broker({ url: "amqp://127.0.0.1:1", prefix: "t_openapi", logger: log }), log),
    clock: systemClock,
    hostname: "mx.correo.test",
    maxMessageSize: 1024,
    maxRecipients: 1,
    redriveAfterMs: 1000,
    deadLetters: new DeadLetterQueue({ url: "amqp://127.0.0.1:1", prefix: "t_openapi" }),
  });
  doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
});
afterAll(async () => {
  await app.close();
  await pool.end();
});

const adminOperations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>)
    .filter(([path]) => path.startsWith("/v1/admin/"))
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })));

describe("OpenAPI: the admin API", () => {
  it("publishes OpenAPI 3.1.0, the mailbox API's version", () => {
    expect(OPENAPI_VERSION).toBe("3.1.0");
    expect(doc.openapi).toBe(OPENAPI_VERSION);
  });

  it("documents every admin operation, the dead letters among them", () => {
    const names = adminOperations().map((o) => o.name);
    expect(names.length).toBeGreaterThanOrEqual(30);
    for (const n of ["GET /v1/admin/dead-letters", "GET /v1/admin/dead-letters/{id}", "POST /v1/admin/dead-letters/{id}/requeue", "DELETE /v1/admin/dead-letters/{id}"]) {
      expect(names).toContain(n);
    }
  });

  it("gives every admin operation a summary, the admin key as security, and 400/401/404 problem+json responses", () => {
    expect(doc.components.securitySchemes.adminKey).toMatchObject({ type: "http", scheme: "bearer" });
    for (const { name, op } of adminOperations()) {
      expect(op.summary, name).toEqual(expect.any(String));
      expect(op.security, name).toEqual([{ adminKey: [] }]);
      for (const status of ["400", "401", "404"]) {
        const schema = op.responses?.[status]?.content?.["application/problem+json"]?.schema;
        expect(schema, `${name} ${status}`).toMatchObject({ properties: { title: { type: "string" }, status: { type: "integer" } } });
      }
    }
  });

  it("answers its errors with the documented problem+json, fields intact", async () => {
    const r = await app.inject({ method: "GET", url: "/v1/admin/dead-letters?limit=0", headers: { authorization: `Bearer correoadmin_${"0123456789abcdef"}_${"A".repeat(43)}` } });
    expect(r.statusCode).toBe(503); // the admin key cannot be checked: PostgreSQL is unreachable
    expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(r.json()).toMatchObject({ type: "about:blank", title: "Service Unavailable", status: 503, detail: expect.any(String) });
    const anon = await app.inject({ method: "GET", url: "/v1/admin/domains" });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ title: "Unauthorized", status: 401, detail: expect.any(String) });
  });
});

describe("OpenAPI: inbound routes (issue 15)", () => {
  it("documents the key's routes, the admin's, and the signed attachment link, with examples", () => {
    const paths = doc.paths as Record<string, Record<string, any>>;
    expect(Object.keys(paths["/v1/inbound-routes"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(paths["/v1/inbound-routes/{id}"]!).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(paths["/v1/admin/domains/{domain}/inbound-routes/{id}"]!).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(paths["/v1/admin/domains/{domain}/inbound-routes"]!).sort()).toEqual(["get", "post"]);
    const create = paths["/v1/inbound-routes"]!.post;
    expect(create.security).toEqual([{ apiKey: [] }]);
    const media = create.requestBody.content["application/json"];
    const body = media.schema;
    expect(body.required.sort()).toEqual(["pattern", "url"]);
    expect(media.example).toMatchObject({ pattern: "support@example.com", url: expect.stringMatching(/^https:/) });
    expect(body.properties.pattern.examples).toContain("*@in.example.com");
    const created = create.responses["201"].content["application/json"];
    expect(JSON.stringify(created)).toContain("whsec_");
    const link = paths["/v1/inbound-routes/{id}/deliveries/{delivery}/attachments/{index}"]!.get;
    expect(link.security).toBeUndefined();
    expect(Object.keys(link.responses)).toEqual(expect.arrayContaining(["200", "403", "404", "410"]));
  });

  it("refuses an attachment link whose index is no number with 400 problem+json naming the field, before any lookup", async () => {
    // PostgreSQL is unreachable here: only the schema can answer.
    const r = await app.inject({ method: "GET", url: "/v1/inbound-routes/5b0c9a52-8d3e-4c1e-9f51-2f7a0b3c4d5e/deliveries/5b0c9a52-8d3e-4c1e-9f51-2f7a0b3c4d5e/attachments/x" });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ status: 400, errors: [{ field: expect.stringMatching(/index/) }] });
  });
});

/** A media type's examples (@fastify/swagger moves a schema's `examples` there: one as `example`, more as `examples`). */
const examplesOf = (content: any): any[] => (content.example !== undefined ? [content.example] : Object.values(content.examples ?? {}).map((e: any) => e.value));

describe("OpenAPI: templates and batch send (issue 15)", () => {
  it("documents the template routes of the API key's domain and of the admin API, with examples", () => {
    for (const path of ["/v1/templates", "/v1/templates/{name}", "/v1/templates/{name}/preview", "/v1/admin/domains/{domain}/templates", "/v1/admin/domains/{domain}/templates/{name}/preview"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const create = doc.paths["/v1/templates"].post;
    expect(create.security).toEqual([{ apiKey: [] }]);
    expect(examplesOf(create.requestBody.content["application/json"])[0]).toMatchObject({ name: "welcome", subject: expect.any(String) });
    expect(create.responses["400"]).toBeDefined();
    expect(examplesOf(doc.paths["/v1/templates/{name}/preview"].post.responses["200"].content["application/json"])[0]).toMatchObject({ subject: expect.any(String) });
  });

  it("documents template and variables on POST /v1/messages, and the batch with its per-item results", () => {
    const send = doc.paths["/v1/messages"].post.requestBody.content["application/json"];
    expect(Object.keys(send.schema.properties)).toEqual(expect.arrayContaining(["template", "variables"]));
    expect(examplesOf(send).some((e: any) => e.template === "welcome")).toBe(true);
    const batch = doc.paths["/v1/messages/batch"].post;
    const body = batch.requestBody.content["application/json"].schema;
    expect(body.properties.messages).toMatchObject({ type: "array", maxItems: 500 });
    expect(Object.keys(body.properties.messages.items.properties)).toEqual(expect.arrayContaining(["template", "variables", "idempotency_key", "tags", "metadata"]));
    const ok = batch.responses["200"].content["application/json"].schema;
    expect(Object.keys(ok.properties)).toEqual(["accepted", "failed", "results"]);
    expect(Object.keys(ok.properties.results.items.properties)).toEqual(expect.arrayContaining(["index", "status", "id", "recipients", "problem"]));
    expect(batch.responses["413"]).toBeDefined();
    expect(examplesOf(batch.requestBody.content["application/json"])[0].messages).toHaveLength(2);
  });
});

describe("OpenAPI: the suppression list (issue 15)", () => {
  it("documents /v1/suppressions for an API key, with examples, problem+json and the CSV export", () => {
    const paths = doc.paths as Record<string, Record<string, any>>;
    expect(Object.keys(paths["/v1/suppressions"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(paths["/v1/suppressions/{address}"]!).sort()).toEqual(["delete", "get"]);
    const post = paths["/v1/suppressions"]!.post;
    expect(post.security).toEqual([{ apiKey: [] }]);
    // Documented as /v1/messages documents its problems.
    expect(post.responses["400"]).toEqual(paths["/v1/messages"]!.post.responses["400"]);
    expect(post.responses["201"].content["application/json"].schema.properties.suppression.examples[0]).toMatchObject({ reason: "hard-bounce" });
    expect(Object.keys(paths["/v1/suppressions/export"]!.get.responses["200"].content)).toEqual(["text/csv"]);
    // The accept answer names the suppressed status.
    const accepted = paths["/v1/messages"]!.post.responses["202"].content["application/json"].schema;
    expect(accepted.properties.recipients.items.properties.status.examples).toEqual(["queued", "suppressed"]);
    expect(Object.keys(paths).filter((p) => p.startsWith("/v1/admin/domains/{domain}/suppressions")).sort()).toEqual([
      "/v1/admin/domains/{domain}/suppressions",
      "/v1/admin/domains/{domain}/suppressions/export",
      "/v1/admin/domains/{domain}/suppressions/{address}",
    ]);
  });
});
