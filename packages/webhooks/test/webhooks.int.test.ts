import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import {
  createEndpoint,
  dispatchTimeline,
  getEndpoint,
  listAttempts,
  listEvents,
  MAX_ATTEMPTS,
  redriveDue,
  replayEvent,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
  WebhookDeliverer,
  type DueDelivery,
} from "../src/index.js";
import { POLL } from "../src/dispatch.js";
import { startReceiver } from "./receiver.js";

let infra: IsolatedInfra;
let clock = new Date("2026-12-02T12:00:00Z");
const now = () => clock;
const REDRIVE = 60_000;
const log = { info: () => undefined, warn: () => undefined, warnings: [] as object[] };
log.warn = ((obj: object) => void log.warnings.push(obj)) as typeof log.warn;

beforeAll(async () => {
  infra = await isolatedInfra("webhooks");
  await infra.pool.query("INSERT INTO domains (name) VALUES ('hosted.test'), ('other.test')");
  await infra.pool.query(
    "INSERT INTO api_keys (key_id, secret_hash, domain_id) SELECT 'k1', 'x', id FROM domains WHERE name = 'hosted.test'",
  );
  await infra.pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, 1, 'x')", ["0".repeat(64)]);
});
afterAll(async () => {
  await infra?.cleanup();
});
beforeEach(async () => {
  await infra.pool.query("DELETE FROM webhook_endpoints");
  log.warnings.length = 0;
  // Each test starts past every earlier test's rows, so none of them reaches its endpoints.
  await drain();
});

/** A message sent with the hosted.test API key, with one delivery per recipient and its 'accepted' row. */
async function message(recipients: string[], tags: string[] = [], db: { query: IsolatedInfra["pool"]["query"] } = infra.pool) {
  const id = randomUUID();
  await db.query(
    `INSERT INTO messages (id, blob_id, envelope_from, header_message_id, size, source, api_key_id, tags, metadata)
     VALUES ($1, $2, 'ana@hosted.test', $3, 1, 'http', (SELECT id FROM api_keys WHERE key_id = 'k1'), $4, '{"order": 7}')`,
    [id, "0".repeat(64), `<${id}@hosted.test>`, tags],
  );
  const deliveries: string[] = [];
  for (const r of recipients) {
    const d = randomUUID();
    deliveries.push(d);
    await db.query(
      "INSERT INTO deliveries (id, message_id, recipient, state, route, next_attempt_at) VALUES ($1, $2, $3, 'queued', 'remote', now())",
      [d, id, r],
    );
    await db.query("INSERT INTO delivery_events (delivery_id, at, event) VALUES ($1, $2, 'accepted')", [d, clock]);
  }
  return { id, deliveries };
}

const timeline = (delivery: string, event: string, detail: string | null) =>
  infra.pool.query("INSERT INTO delivery_events (delivery_id, at, event, detail) VALUES ($1, $2, $3, $4)", [delivery, clock, event, detail]);

/**
 * Dispatches until `expected` deliveries came out (or, with 0, once the horizon has
 * passed everything written so far). The horizon is the whole cluster's oldest open
 * transaction, and other suites share this PostgreSQL: it may take a moment to pass.
 */
async function drain(expected = 0): Promise<DueDelivery[]> {
  const due: DueDelivery[] = [];
  const { rows } = await infra.pool.query<{ xid: string }>("SELECT pg_current_xact_id()::text AS xid");
  const deadline = Date.now() + 20_000;
  for (;;) {
    // Once the horizon is past what was written, a pass reads all of it (the cursor itself
    // stays put when a poll finds nothing new).
    const { rows: h } = await infra.pool.query<{ past: boolean }>(
      "SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS past",
      [rows[0]!.xid],
    );
    const r = await dispatchTimeline(infra.pool, clock, { redriveAfterMs: REDRIVE, batch: 50 });
    due.push(...r.due);
    if (r.more) continue;
    if ((expected === 0 ? h[0]!.past : due.length >= expected) || Date.now() > deadline) return due;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function deliverer(maxFailures = 1000, timeoutMs = 2000, concurrencyPerEndpoint = 4, maxSlotWaitMs = 2000) {
  const published: DueDelivery[] = [];
  const d = new WebhookDeliverer({
    pool: infra.pool, now, publish: async (due) => void published.push(...due), log, timeoutMs,
    concurrencyPerEndpoint, maxSlotWaitMs, maxFailures, redriveAfterMs: REDRIVE,
  });
  return { d, published };
}

describe("reading the timeline", () => {
  it("dispatches every event exactly once even when transactions commit out of id order", async () => {
    const secret = { s: "" };
    const made = await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:9/h" }, { allowHttp: true, now: clock });
    secret.s = made.secret;
    await drain(); // past anything earlier
    // A takes the lower id and commits last.
    const a = await infra.pool.connect();
    await a.query("BEGIN");
    const first = await message(["early@example.net"], [], a);
    const second = await message(["late@example.net"]);
    const whileOpen = (await dispatchTimeline(infra.pool, clock, { redriveAfterMs: REDRIVE })).due;
    await a.query("COMMIT");
    a.release();
    const afterCommit = await drain(2 - whileOpen.length);
    const again = await drain();
    const { rows } = await infra.pool.query<{ recipient: string; n: number }>(
      `SELECT ev.payload->'data'->>'recipient' AS recipient, count(*)::int AS n FROM webhook_deliveries w
         JOIN webhook_events ev ON ev.id = w.event_id WHERE ev.payload->'data'->>'message_id' = ANY ($1::text[]) GROUP BY 1 ORDER BY 1`,
      [[first.id, second.id]],
    );
    expect(rows).toEqual([{ recipient: "early@example.net", n: 1 }, { recipient: "late@example.net", n: 1 }]);
    // While A was open, the horizon (A's xid) held B back too; nothing was skipped for good.
    expect(whileOpen).toEqual([]);
    expect(afterCommit).toHaveLength(2);
    expect(again).toEqual([]);
  });

  it("reads no row while no endpoint is enabled, and sends nothing from that time later", async () => {
    await message(["nobody@example.net"]);
    // Once the horizon has passed the row (other suites' transactions may hold it back a moment).
    expect(await drain()).toEqual([]);
    const r = await dispatchTimeline(infra.pool, clock, { redriveAfterMs: REDRIVE });
    expect(r).toEqual({ read: 0, due: [], more: false });
    await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:9/h" }, { allowHttp: true, now: clock });
    expect(await drain()).toEqual([]);
  });

  it("sends an endpoint only its domain's events of the types it subscribes to", async () => {
    await createEndpoint(infra.pool, "other.test", { url: "http://127.0.0.1:9/o" }, { allowHttp: true, now: clock });
    const { endpoint } = await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:9/h", eventTypes: ["bounced"] }, { allowHttp: true, now: clock });
    const m = await message(["x@example.net"]);
    await timeline(m.deliveries[0]!, "bounced", "550 5.1.1 user unknown");
    const due = await drain(1);
    expect(due).toHaveLength(1);
    const { rows } = await infra.pool.query("SELECT endpoint_id, ev.type FROM webhook_deliveries w JOIN webhook_events ev ON ev.id = w.event_id WHERE w.id = $1", [due[0]!.id]);
    expect(rows).toEqual([{ endpoint_id: endpoint.id, type: "bounced" }]);
  });

  it("polls for news with an index range scan past the cursor, not by reading the whole timeline", async () => {
    // Every copy polls every WEBHOOK_DISPATCH_INTERVAL, endpoints or not: it must not grow with the timeline.
    const m = await message(["poll@example.net"]);
    await infra.pool.query(
      "INSERT INTO delivery_events (delivery_id, at, event) SELECT $1, $2, 'deferred' FROM generate_series(1, 5000)",
      [m.deliveries[0], clock],
    );
    await infra.pool.query("ANALYZE delivery_events");
    const { rows } = await infra.pool.query<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${POLL}`);
    const scans: string[] = [];
    const walk = (n: Record<string, unknown>) => {
      if (n["Relation Name"] === "delivery_events") scans.push(String(n["Node Type"]));
      for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
    };
    walk((rows[0]!["QUERY PLAN"] as { Plan: Record<string, unknown> }[])[0]!.Plan);
    expect(scans).toEqual([expect.stringMatching(/^Index( Only)? Scan$/)]);
  });
});

describe("which domain an event belongs to", () => {
  it("an SMTP submission's is its account's domain; mail from the MX claiming a hosted sender belongs to none", async () => {
    await infra.pool.query(
      "INSERT INTO accounts (domain_id, local_part, address, password_hash) SELECT id, 'ana', 'ana@hosted.test', 'x' FROM domains WHERE name = 'hosted.test' ON CONFLICT DO NOTHING",
    );
    const { endpoint } = await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:9/h", eventTypes: ["accepted"] }, { allowHttp: true, now: clock });
    const smtp = async (account: boolean) => {
      const id = randomUUID();
      const d = randomUUID();
      await infra.pool.query(
        `INSERT INTO messages (id, blob_id, envelope_from, size, source, account_id)
         VALUES ($1, $2, 'ana@hosted.test', 1, 'smtp', CASE WHEN $3 THEN (SELECT id FROM accounts WHERE address = 'ana@hosted.test') END)`,
        [id, "0".repeat(64), account],
      );
      await infra.pool.query("INSERT INTO deliveries (id, message_id, recipient, state, route, next_attempt_at) VALUES ($1, $2, 'x@example.net', 'queued', 'remote', now())", [d, id]);
      await infra.pool.query("INSERT INTO delivery_events (delivery_id, at, event) VALUES ($1, $2, 'accepted')", [d, clock]);
      return id;
    };
    const submitted = await smtp(true);
    const fromMx = await smtp(false);
    await drain(1);
    await drain();
    const { rows } = await infra.pool.query<{ m: string }>(
      "SELECT ev.payload->'data'->>'message_id' AS m FROM webhook_deliveries w JOIN webhook_events ev ON ev.id = w.event_id WHERE w.endpoint_id = $1",
      [endpoint.id],
    );
    expect(rows.map((r) => r.m)).toEqual([submitted]);
    expect(rows.map((r) => r.m)).not.toContain(fromMx);
  });
});

describe("delivering to a real receiver", () => {
  it("signs each event, retries a receiver that answers 500 for a while, then delivers once", async () => {
    let secret = "";
    const receiver = await startReceiver({ secret: () => secret, failFirst: 2, now });
    try {
      const made = await createEndpoint(infra.pool, "hosted.test", { url: receiver.url, eventTypes: ["deferred"] }, { allowHttp: true, now: clock });
      secret = made.secret;
      const m = await message(["slowpoke@example.net"], ["welcome"]);
      await timeline(m.deliveries[0]!, "deferred", "451 4.7.1 greylisted, try later");
      const [due] = await drain(1);
      const { d } = deliverer();
      expect(await d.deliver(due!)).toBe("failed");
      // The same broker message again (a redelivery) is not a second attempt.
      expect(await d.deliver(due!)).toBe("skipped");
      // Not due before the backoff has passed; then the sweeper hands it on.
      expect(await redriveDue(infra.pool, clock, REDRIVE)).toEqual([]);
      clock = new Date(clock.getTime() + 10_000);
      const [retry] = await redriveDue(infra.pool, clock, REDRIVE);
      expect(retry).toEqual({ id: due!.id, attempt: 1 });
      expect(await d.deliver(retry!)).toBe("failed");
      clock = new Date(clock.getTime() + 30_000);
      const [third] = await redriveDue(infra.pool, clock, REDRIVE);
      expect(await d.deliver(third!)).toBe("sent");
      expect(receiver.received).toHaveLength(1);
      const got = receiver.received[0]!;
      expect(got.type).toBe("deferred");
      expect(got.eventId).toBe(got.body.id);
      expect(got.body.data).toMatchObject({ message_id: m.id, recipient: "slowpoke@example.net", tags: ["welcome"], metadata: { order: 7 }, reply: "451 4.7.1 greylisted, try later", attempt: 1 });
      const attempts = await listAttempts(infra.pool, made.endpoint.id, "hosted.test", { limit: 10 });
      expect(attempts.attempts.map((a) => [a.status, a.ok])).toEqual([[200, true], [500, false], [500, false]]);
      expect(attempts.attempts[1]!.responseExcerpt).toBe("receiver down for maintenance");
      // Replay sends the same event again, on demand.
      const replay = await replayEvent(infra.pool, made.endpoint.id, "hosted.test", got.body.id, clock);
      expect(await redriveDue(infra.pool, clock, REDRIVE)).toEqual([replay]);
      expect(await d.deliver(replay)).toBe("sent");
      expect(receiver.received.map((r) => r.body)).toEqual([got.body, got.body]);
    } finally {
      await receiver.close();
    }
  });

  it("times out a slow receiver without holding up another endpoint", async () => {
    let secret = "";
    const slow = await startReceiver({ secret: () => secret, delayMs: 1500, now });
    const fast = await startReceiver({ secret: () => fastSecret, now });
    let fastSecret = "";
    try {
      secret = (await createEndpoint(infra.pool, "hosted.test", { url: slow.url, eventTypes: ["accepted"] }, { allowHttp: true, now: clock })).secret;
      fastSecret = (await createEndpoint(infra.pool, "hosted.test", { url: fast.url, eventTypes: ["accepted"] }, { allowHttp: true, now: clock })).secret;
      await message(["a@example.net", "b@example.net", "c@example.net"]);
      const due = await drain(6);
      expect(due).toHaveLength(6);
      const { d } = deliverer(1000, 300);
      const started = Date.now();
      const results = await Promise.all(due.map((x) => d.deliver(x)));
      expect(Date.now() - started).toBeLessThan(1400);
      expect(results.filter((r) => r === "sent")).toHaveLength(3);
      expect(fast.received).toHaveLength(3);
      const { rows } = await infra.pool.query("SELECT DISTINCT error FROM webhook_attempts WHERE NOT ok");
      expect(rows).toEqual([{ error: "no answer within 300 ms" }]);
    } finally {
      await slow.close();
      await fast.close();
    }
  });

  it("sends a slow endpoint's deliveries that wait too long for a slot back to PostgreSQL, attempt not counted", async () => {
    let secret = "";
    const slow = await startReceiver({ secret: () => secret, delayMs: 600, now });
    try {
      secret = (await createEndpoint(infra.pool, "hosted.test", { url: slow.url, eventTypes: ["accepted"] }, { allowHttp: true, now: clock })).secret;
      await message(["p1@example.net", "p2@example.net", "p3@example.net"]);
      const due = await drain(3);
      const { d } = deliverer(1000, 2000, 1, 100);
      const results = await Promise.all(due.map((x) => d.deliver(x)));
      expect(results.sort()).toEqual(["postponed", "postponed", "sent"]);
      const { rows } = await infra.pool.query<{ attempts: number; wait: number }>(
        "SELECT attempts, extract(epoch FROM next_attempt_at - $1) AS wait FROM webhook_deliveries WHERE state = 'pending' AND id = ANY ($2::bigint[])",
        [clock, due.map((x) => x.id)],
      );
      expect(rows).toEqual([{ attempts: 0, wait: "2.000000" }, { attempts: 0, wait: "2.000000" }]);
    } finally {
      await slow.close();
    }
  });

  it("disables an endpoint whose event failed every attempt over 24 h, and tells the others", async () => {
    let watcherSecret = "";
    const watcher = await startReceiver({ secret: () => watcherSecret, now });
    try {
      const dead = await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:1/dead", eventTypes: ["bounced"] }, { allowHttp: true, now: clock });
      watcherSecret = (await createEndpoint(infra.pool, "hosted.test", { url: watcher.url, eventTypes: ["endpoint.disabled"] }, { allowHttp: true, now: clock })).secret;
      const m = await message(["gone@example.net"]);
      await timeline(m.deliveries[0]!, "bounced", "550 5.1.1 user unknown");
      let [due] = await drain(1);
      const { d, published } = deliverer();
      const start = clock.getTime();
      for (let i = 1; i <= MAX_ATTEMPTS; i++) {
        expect(await d.deliver(due!)).toBe("failed");
        if (i === MAX_ATTEMPTS) break;
        clock = new Date(clock.getTime() + 6 * 3_600_000); // past any delay of the schedule
        [due] = await redriveDue(infra.pool, clock, REDRIVE);
        expect(due!.attempt).toBe(i);
      }
      expect(clock.getTime() - start).toBeGreaterThanOrEqual(24 * 3_600_000);
      const e = await getEndpoint(infra.pool, dead.endpoint.id);
      expect(e).toMatchObject({ enabled: false, disabledReason: `an event failed all ${MAX_ATTEMPTS} attempts over 24 h` });
      expect(log.warnings).toMatchObject([{ endpointId: dead.endpoint.id }]);
      expect(published).toHaveLength(1);
      expect(await d.deliver(published[0]!)).toBe("sent");
      expect(watcher.received[0]!.body).toMatchObject({ type: "endpoint.disabled", data: { endpoint_id: dead.endpoint.id } });
      // Re-enabled by hand, it gets new events again.
      await updateEndpoint(infra.pool, dead.endpoint.id, "hosted.test", { enabled: true }, { allowHttp: true, now: clock });
      expect(await getEndpoint(infra.pool, dead.endpoint.id)).toMatchObject({ enabled: true, disabledReason: null });
    } finally {
      await watcher.close();
    }
  });

  it("disables an endpoint after N failed attempts in a row within 24 h", async () => {
    const dead = await createEndpoint(infra.pool, "hosted.test", { url: "http://127.0.0.1:1/dead", eventTypes: ["accepted"] }, { allowHttp: true, now: clock });
    await message(["a@example.net", "b@example.net", "c@example.net"]);
    const due = await drain(3);
    const { d } = deliverer(3);
    for (const x of due) await d.deliver(x);
    expect(await getEndpoint(infra.pool, dead.endpoint.id)).toMatchObject({ enabled: false, disabledReason: "3 attempts in a row failed within 24 h" });
  });

  it("test sends a signed 'test' event now and returns the answer; a rotated secret signs beside the old one", async () => {
    let secret = "";
    const receiver = await startReceiver({ secret: () => secret });
    try {
      const made = await createEndpoint(infra.pool, "hosted.test", { url: receiver.url }, { allowHttp: true, now: clock });
      secret = made.secret;
      const r = await sendTestEvent(infra.pool, made.endpoint.id, "hosted.test", { now: () => new Date(), timeoutMs: 2000 });
      expect(r.result).toMatchObject({ status: 200, error: null, responseExcerpt: '{"ok":true}' });
      expect(receiver.received[0]!.body.type).toBe("test");
      // The receiver still has the old secret: the grace period's second v1 passes.
      await rotateSecret(infra.pool, made.endpoint.id, "hosted.test", new Date());
      expect((await sendTestEvent(infra.pool, made.endpoint.id, "hosted.test", { now: () => new Date(), timeoutMs: 2000 })).result.status).toBe(200);
      secret = "whsec_wrong";
      expect((await sendTestEvent(infra.pool, made.endpoint.id, "hosted.test", { now: () => new Date(), timeoutMs: 2000 })).result.status).toBe(400);
    } finally {
      await receiver.close();
    }
  });
});

describe("the events API", () => {
  it("filters by type, recipient, message, tag and time, newest first, with a cursor", async () => {
    const m = await message(["f1@example.net", "f2@example.net"], ["invoice"]);
    await timeline(m.deliveries[0]!, "routed", null);
    await timeline(m.deliveries[0]!, "bounced", "550 5.1.1 user unknown");
    const mine = (extra: object) => listEvents(infra.pool, { domain: "hosted.test", messageId: m.id, limit: 10, ...extra });
    const all = await mine({});
    expect(all.events.map((e) => [e.type, e.data.recipient])).toEqual([
      ["bounced", "f1@example.net"],
      ["accepted", "f2@example.net"],
      ["accepted", "f1@example.net"],
    ]);
    expect((await mine({ types: ["bounced"] })).events).toHaveLength(1);
    expect((await mine({ recipient: "F2@example.net" })).events).toHaveLength(1);
    expect((await mine({ tag: "invoice" })).events).toHaveLength(3);
    expect((await mine({ tag: "other" })).events).toHaveLength(0);
    expect((await mine({ until: clock })).events).toHaveLength(0);
    expect((await listEvents(infra.pool, { domain: "other.test", messageId: m.id, limit: 10 })).events).toHaveLength(0);
    const page1 = await mine({ limit: 2 });
    expect(page1.events).toEqual(all.events.slice(0, 2));
    const { decodeEventCursor } = await import("../src/index.js");
    const page2 = await mine({ limit: 2, before: decodeEventCursor(page1.next!) });
    expect(page2.events).toEqual(all.events.slice(2));
    expect(page2.next).toBeNull();
    await expect(mine({ types: ["nonsense"] })).rejects.toThrow("unknown event type 'nonsense'");
  });
});
