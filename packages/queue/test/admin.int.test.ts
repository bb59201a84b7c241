import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { deleteQueued, hold, listQueue, release, retryNow, RetrySchedule, showDelivery } from "../src/index.js";

let infra: IsolatedInfra;
let redis: Redis;
let schedule: RetrySchedule;
const now = new Date("2026-12-01T12:00:00Z");
const HOUR = 3_600_000;

beforeAll(async () => {
  infra = await isolatedInfra("queue-admin");
  redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
  schedule = new RetrySchedule(redis, infra.prefix);
});

afterAll(async () => {
  redis?.disconnect();
  await infra?.cleanup();
});

/** A deferred remote delivery, accepted `ageMs` ago, with its last reply. */
async function deferred(recipient: string, ageMs: number, lastResponse: string, state = "deferred"): Promise<string> {
  const blob = "0".repeat(63) + Math.floor(Math.random() * 10);
  await infra.pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, 1, 'x') ON CONFLICT DO NOTHING", [blob]);
  const messageId = randomUUID();
  const id = randomUUID();
  const created = new Date(now.getTime() - ageMs);
  await infra.pool.query(
    "INSERT INTO messages (id, blob_id, envelope_from, size, source, subject, created_at) VALUES ($1, $2, 'ana@hosted.test', 1, 'http', 'hola', $3)",
    [messageId, blob, created],
  );
  await infra.pool.query(
    `INSERT INTO deliveries (id, message_id, recipient, state, route, attempts, next_attempt_at, last_response, created_at)
     VALUES ($1, $2, $3, $4, 'remote', 3, $5, $6, $7)`,
    [id, messageId, recipient, state, new Date(now.getTime() + HOUR), lastResponse, created],
  );
  await infra.pool.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, $2, 'deferred', $3)", [id, created, lastResponse]);
  await schedule.add([{ deliveryId: id, dueAt: new Date(now.getTime() + HOUR) }]);
  return id;
}

describe("queue management", () => {
  let refused: string, busy: string, other: string;
  beforeAll(async () => {
    refused = await deferred("a@down.example", 3 * HOUR, "4.4.1 connection refused (192.0.2.1:25)");
    busy = await deferred("b@busy.example", HOUR / 2, "451 4.3.0 mailbox busy (mx.busy.example[192.0.2.2]:25)");
    other = await deferred("c@down.example", 5 * HOUR, "451 4.7.1 greylisted (mx.down.example[192.0.2.1]:25)");
  });

  it("lists deferred deliveries, filtered by domain, age and reason", async () => {
    expect((await listQueue(infra.pool, {}, now)).map((d) => d.id)).toEqual([other, refused, busy]);
    expect((await listQueue(infra.pool, { domain: "DOWN.example" }, now)).map((d) => d.id)).toEqual([other, refused]);
    expect((await listQueue(infra.pool, { olderThanMs: 2 * HOUR }, now)).map((d) => d.id)).toEqual([other, refused]);
    expect((await listQueue(infra.pool, { reason: "refused" }, now)).map((d) => d.id)).toEqual([refused]);
    expect((await listQueue(infra.pool, { reason: "4.7.1", domain: "down.example" }, now)).map((d) => d.id)).toEqual([other]);
    const [first] = await listQueue(infra.pool, { domain: "busy.example" }, now);
    expect(first).toMatchObject({ recipient: "b@busy.example", domain: "busy.example", envelopeFrom: "ana@hosted.test", attempts: 3, held: false });
  });

  it("shows one delivery with its attempts", async () => {
    const d = await showDelivery(infra.pool, refused);
    expect(d?.events.map((e) => e.detail)).toEqual(["4.4.1 connection refused (192.0.2.1:25)"]);
    expect(await showDelivery(infra.pool, randomUUID())).toBeUndefined();
    expect(await showDelivery(infra.pool, "not-a-uuid")).toBeUndefined();
  });

  it("retries one delivery, or a whole domain, now", async () => {
    expect(await retryNow(infra.pool, { deliveryId: busy }, now, schedule)).toEqual([busy]);
    expect(await schedule.score(busy)).toBe(now.getTime());
    const ids = await retryNow(infra.pool, { domain: "down.example" }, now, schedule);
    expect(new Set(ids)).toEqual(new Set([refused, other]));
    const d = await showDelivery(infra.pool, refused);
    expect(d?.nextAttemptAt?.getTime()).toBe(now.getTime());
    expect(d?.events.at(-1)?.detail).toBe("retry requested by the administrator");
  });

  it("holds and releases: held mail leaves the schedule and the default list, and is due at once when released", async () => {
    expect(await hold(infra.pool, { domain: "down.example" }, now, schedule)).toHaveLength(2);
    expect(await schedule.score(refused)).toBeUndefined();
    expect((await listQueue(infra.pool, {}, now)).map((d) => d.id)).toEqual([busy]);
    expect((await listQueue(infra.pool, { held: "only" }, now)).map((d) => d.id)).toEqual([other, refused]);
    // Retry does not touch held mail; a second hold changes nothing.
    expect(await retryNow(infra.pool, { deliveryId: refused }, now, schedule)).toEqual([]);
    expect(await hold(infra.pool, { deliveryId: refused }, now, schedule)).toEqual([]);
    const later = new Date(now.getTime() + HOUR);
    expect(await release(infra.pool, { deliveryId: refused }, later, schedule)).toEqual([refused]);
    expect(await schedule.score(refused)).toBe(later.getTime());
    expect((await showDelivery(infra.pool, refused))?.held).toBe(false);
  });

  it("deletes with or without a bounce; deleted mail is final and leaves the schedule", async () => {
    expect(await deleteQueued(infra.pool, { deliveryId: refused }, { bounce: true }, now, schedule)).toEqual([refused]);
    expect(await deleteQueued(infra.pool, { deliveryId: other }, { bounce: false }, now, schedule)).toEqual([other]);
    const { rows } = await infra.pool.query("SELECT id, state, dsn_state, next_attempt_at, last_response FROM deliveries WHERE id = ANY($1::uuid[])", [[refused, other]]);
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[refused]).toMatchObject({ state: "bounced", dsn_state: "pending", next_attempt_at: null, last_response: "5.0.0 deleted from the queue by the administrator" });
    expect(byId[other]).toMatchObject({ state: "bounced", dsn_state: "none" });
    expect(await schedule.score(refused)).toBeUndefined();
    expect(await deleteQueued(infra.pool, { deliveryId: refused }, { bounce: true }, now, schedule)).toEqual([]);
  });
});
