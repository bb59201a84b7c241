import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { Broker } from "@correo/broker";
import type { MessageSubmitted } from "@correo/contracts";
import { createAdminKey } from "@correo/directory";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { testHttpApi } from "./test-api.js";

/**
 * The admin API's dead-letter routes against the real RabbitMQ: an event refused as
 * invalid and one that failed up to the delivery limit are listed, shown, requeued
 * (and consumed) and dropped.
 */
const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let app: FastifyInstance;
let auth: { authorization: string };
let failing = true;
const consumed: MessageSubmitted[] = [];

const submitted = (): MessageSubmitted => ({
  type: "message.submitted",
  version: 1,
  messageId: randomUUID(),
  blobId: "c".repeat(64),
  envelopeFrom: "ana@example.test",
  deliveries: [{ deliveryId: randomUUID(), recipient: "bob@example.test" }],
  submittedAt: new Date().toISOString(),
});

const call = (method: "GET" | "POST" | "DELETE", url: string, headers: Record<string, string> = auth) => app.inject({ method, url, headers });

beforeAll(async () => {
  infra = await isolatedInfra("admin-dead-letters");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log, deliveryLimit: 1 });
  await broker.connect();
  await broker.consume("routing", ["message.submitted"], async (event) => {
    if (failing) throw new Error("failing on purpose");
    consumed.push(event);
  });
  app = testHttpApi({ logger: log, pool: infra.pool, broker, amqpUrl: infra.amqpUrl, prefix: infra.prefix });
  await app.ready();
  auth = { authorization: `Bearer ${(await createAdminKey(infra.pool, "dead-letters test")).token}` };
});
afterAll(async () => {
  await app?.close();
  await broker?.close();
  await infra?.cleanup();
});

describe("admin API: dead letters", () => {
  const poison = submitted();
  const invalid = JSON.stringify({ type: "message.submitted", version: 1, deliveries: "none" });

  it("GET /v1/admin/dead-letters lists an invalid event and one over the delivery limit, with reason, count, queue and size", async () => {
    await broker.publishRaw("message.submitted", Buffer.from(invalid), {});
    await broker.publish(poison);
    const body: { dead_letters: Record<string, any>[] } = await eventually(
      async () => {
        const r = await call("GET", "/v1/admin/dead-letters");
        return r.json().total === 2 ? r.json() : false;
      },
      20_000,
      "two dead letters",
    );
    expect(body).toMatchObject({ total: 2, offset: 0, limit: 50 });
    const byReason: Record<string, any> = Object.fromEntries(body.dead_letters.map((d) => [d.reason, d]));
    expect(byReason.rejected).toMatchObject({
      routing_key: "message.submitted",
      event_type: "message.submitted",
      death_count: 1,
      original_queue: `${infra.prefix}.routing`,
      original_exchange: `${infra.prefix}.mail`,
      size: Buffer.byteLength(invalid),
    });
    expect(Date.parse(byReason.rejected.first_death_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(byReason.delivery_limit).toMatchObject({ routing_key: "message.submitted", death_count: 1 });
    const page = await call("GET", "/v1/admin/dead-letters?offset=1&limit=1");
    expect(page.json()).toMatchObject({ total: 2, offset: 1, limit: 1, dead_letters: [{ id: body.dead_letters[1]!.id }] });
  });

  it("GET /v1/admin/dead-letters/{id} shows the full event body; an unknown id is 404 problem+json", async () => {
    const list = (await call("GET", "/v1/admin/dead-letters")).json();
    const id = list.dead_letters.find((d: { reason: string }) => d.reason === "delivery_limit").id;
    const r = await call("GET", `/v1/admin/dead-letters/${encodeURIComponent(id)}`);
    expect(r.statusCode).toBe(200);
    expect(r.json().dead_letter).toMatchObject({ id, event: poison, body: JSON.stringify(poison), content_type: "application/json" });
    expect(r.json().dead_letter.headers["x-death"][0]).toMatchObject({ reason: "delivery_limit", queue: `${infra.prefix}.routing` });
    const missing = await call("GET", "/v1/admin/dead-letters/no-such-id");
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ status: 404, errors: [{ field: "params.id" }] });
  });

  it("POST /v1/admin/dead-letters/{id}/requeue republishes it, where it is consumed, and removes it", async () => {
    failing = false;
    const list = (await call("GET", "/v1/admin/dead-letters")).json();
    const id = list.dead_letters.find((d: { reason: string }) => d.reason === "delivery_limit").id;
    const r = await call("POST", `/v1/admin/dead-letters/${id}/requeue`);
    expect(r.statusCode).toBe(200);
    expect(r.json().requeued).toMatchObject({ id, reason: "delivery_limit" });
    await eventually(async () => consumed.find((e) => e.messageId === poison.messageId), 10_000, "requeued event consumed");
    expect((await call("GET", "/v1/admin/dead-letters")).json().total).toBe(1);
    expect((await call("POST", `/v1/admin/dead-letters/${id}/requeue`)).statusCode).toBe(404);
  });

  it("DELETE /v1/admin/dead-letters/{id} drops it for good (204), then 404", async () => {
    const [only] = (await call("GET", "/v1/admin/dead-letters")).json().dead_letters;
    expect((await call("DELETE", `/v1/admin/dead-letters/${only.id}`)).statusCode).toBe(204);
    expect((await call("GET", "/v1/admin/dead-letters")).json()).toMatchObject({ total: 0, dead_letters: [] });
    expect((await call("DELETE", `/v1/admin/dead-letters/${only.id}`)).statusCode).toBe(404);
  });

  it("refuses callers without an admin key (401) and a bad limit (400), as problem+json", async () => {
    const anon = await call("GET", "/v1/admin/dead-letters", {});
    expect(anon.statusCode).toBe(401);
    expect(anon.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const bad = await call("GET", "/v1/admin/dead-letters?limit=0");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe("querystring.limit");
  });

  it("answers 503 with Retry-After when RabbitMQ is unreachable", async () => {
    const down = testHttpApi({ logger: log, pool: infra.pool, broker, amqpUrl: "amqp://guest:guest@127.0.0.1:1", prefix: infra.prefix });
    await down.ready();
    const r = await down.inject({ method: "GET", url: "/v1/admin/dead-letters", headers: auth });
    await down.close();
    expect(r.statusCode).toBe(503);
    expect(r.headers["retry-after"]).toBeDefined();
  });
});
