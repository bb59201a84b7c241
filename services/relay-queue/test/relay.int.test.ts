import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import type { Broker } from "@correo/broker";
import type { DeliveryRemote } from "@correo/contracts";
import { addTransport } from "@correo/directory";
import { acceptMessage, loadDeliveries, Outbox, type Delivery } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
// @correo/testkit is not (yet) a dependency of this service; see the report.
import { eventually, freePort, recordStatements, type IsolatedInfra } from "@correo/testkit";
import { deliverRemote, type RelayDeps } from "../src/deliver.js";
import { AttemptLeases } from "../src/leases.js";
import type { Dns } from "@correo/mx";
import { nextHop } from "../src/route-policy.js";
import { reconcileSchedule } from "../src/reconcile.js";
import { publishDue, RetrySchedule } from "../src/schedule.js";
import { DestinationSlots } from "../src/slots.js";
import { sendMessage } from "../src/smtp-client.js";
import type { FakeMx } from "./fake-mx.js";
import { routeRemote, startRelaySuite, type RelaySuite } from "./relay-world.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const log = createLogger("relay-test", "warn");

/** Every name must come from a transport override here; a DNS query is a test bug. */
const noDns: Dns = {
  resolveMx: async (n) => Promise.reject(Object.assign(new Error(`unexpected MX lookup of ${n}`), { code: "ESERVFAIL" })),
  resolve4: async (n) => Promise.reject(Object.assign(new Error(`unexpected A lookup of ${n}`), { code: "ESERVFAIL" })),
  resolve6: async (n) => Promise.reject(Object.assign(new Error(`unexpected AAAA lookup of ${n}`), { code: "ESERVFAIL" })),
};

let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let redis: Redis;
let schedule: RetrySchedule;
let mx: FakeMx;
let suite: RelaySuite | undefined;
let deps: RelayDeps;
const clock = { t: Date.now(), now: () => new Date(clock.t) };
const consumed: DeliveryRemote[] = [];

beforeAll(async () => {
  suite = await startRelaySuite("relay");
  ({ infra, broker, outbox, redis, schedule, mx } = suite);
  await addTransport(infra.pool, "remote.test", "127.0.0.1", suite.mxPort);
  // Nothing listens there: connections are refused.
  await addTransport(infra.pool, "refused.test", "127.0.0.1", await freePort());
  deps = {
    pool: infra.pool,
    clock,
    schedule,
    slots: new DestinationSlots((...args) => schedule.acquireSlot(...args), { maxWaiting: 8, maxWaitMs: 10_000, pollMs: 50 }),
    nextHop: (domain, transport) => nextHop({ dns: noDns, smtpPort: 25 }, domain, transport),
    send: sendMessage,
    policy: {
      minBackoffMs: MINUTE,
      maxBackoffMs: 60 * MINUTE,
      maxLifetimeMs: 5 * DAY,
      connectTimeoutMs: 3000,
      heloName: "relay.correo.test",
      attemptLeaseMs: 2 * MINUTE,
      destinationConcurrency: 10,
      parkAfterFailures: 1000,
    },
    random: () => 0.5, // no jitter: due times are exact
    log,
  };
  // The service's consumer, in-process: what the retry loop re-publishes lands here.
  await broker.consume("relay-queue", ["delivery.remote"], async (event) => {
    consumed.push(event);
    await deliverRemote(deps, event);
  });
});

afterAll(async () => {
  await suite?.close();
});

/** Accepts a message and routes its recipients to remote the way routing does; returns the event. */
async function submit(recipients: string[], envelopeFrom = "sender@correo.test", domain = "remote.test"): Promise<DeliveryRemote> {
  const raw = Buffer.from(
    `From: <sender@correo.test>\r\nTo: ${recipients.join(", ")}\r\nSubject: relay test\r\n` +
      `Message-ID: <${randomUUID()}@correo.test>\r\n\r\nHello over SMTP.\r\n`,
  );
  const accepted = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom, recipients, source: "smtp" }, { clock, redriveAfterMs: 2 * MINUTE });
  await routeRemote(infra.pool, clock, accepted.deliveries, domain);
  return {
    type: "delivery.remote",
    version: 1,
    messageId: accepted.messageId,
    blobId: accepted.blobId,
    envelopeFrom,
    domain,
    deliveries: accepted.deliveries,
  };
}

async function delivery(id: string): Promise<Delivery> {
  const [d] = await loadDeliveries(infra.pool, [id]);
  if (!d) throw new Error(`no delivery ${id}`);
  return d;
}

const idOf = (e: DeliveryRemote, i = 0) => e.deliveries[i]!.deliveryId;

describe("relay-queue against a real SMTP peer", () => {
  it("delivers on 250 and stores the remote reply and host", async () => {
    const event = await submit(["alice@remote.test"]);
    await deliverRemote(deps, event);
    const d = await delivery(idOf(event));
    expect(d.state).toBe("delivered");
    expect(d.attempts).toBe(1);
    expect(d.nextAttemptAt).toBeNull();
    expect(d.lastResponse).toMatch(/^250 .*queued by fake mx/);
    expect(d.lastResponse).toContain("127.0.0.1:");
    const got = mx.for("alice@remote.test");
    expect(got).toHaveLength(1);
    expect(got[0]!.from).toBe("sender@correo.test");
    expect(got[0]!.heloName).toBe("relay.correo.test");
    expect(got[0]!.raw).toContain("Hello over SMTP.");
  });

  it("sends the null reverse-path <> as it is", async () => {
    const event = await submit(["bounce-target@remote.test"], "");
    await deliverRemote(deps, event);
    expect((await delivery(idOf(event))).state).toBe("delivered");
    expect(mx.for("bounce-target@remote.test")[0]!.from).toBe("");
  });

  it("bounces on 550 and keeps the reply", async () => {
    mx.replies.set("nobody@remote.test", 550);
    const event = await submit(["nobody@remote.test"]);
    await deliverRemote(deps, event);
    const d = await delivery(idOf(event));
    expect(d.state).toBe("bounced");
    expect(d.nextAttemptAt).toBeNull();
    expect(d.lastResponse).toMatch(/^550 5\.1\.1/);
    expect(mx.for("nobody@remote.test")).toHaveLength(0);
    expect(await schedule.score(idOf(event))).toBeUndefined();
  });

  it("gives each recipient of one transaction its own outcome", async () => {
    mx.replies.set("busy2@remote.test", 451);
    mx.replies.set("gone2@remote.test", 550);
    const event = await submit(["ok2@remote.test", "busy2@remote.test", "gone2@remote.test"]);
    const before = mx.connections;
    await deliverRemote(deps, event);
    expect(mx.connections - before).toBe(1);
    const states = await Promise.all(event.deliveries.map((d) => delivery(d.deliveryId)));
    expect(Object.fromEntries(states.map((d) => [d.recipient, d.state]))).toEqual({
      "ok2@remote.test": "delivered",
      "busy2@remote.test": "deferred",
      "gone2@remote.test": "bounced",
    });
    expect(mx.for("ok2@remote.test")[0]!.to).toEqual(["ok2@remote.test"]);
  });

  it("defers on 451, schedules the retry, and delivers exactly once when the due claim re-publishes it", async () => {
    mx.replies.set("later@remote.test", 451);
    const event = await submit(["later@remote.test"]);
    const t0 = clock.t;
    await deliverRemote(deps, event);
    const id = idOf(event);
    const d = await delivery(id);
    expect(d.state).toBe("deferred");
    expect(d.attempts).toBe(1);
    expect(d.lastResponse).toMatch(/^451 4\.3\.0/);
    expect(d.nextAttemptAt?.getTime()).toBe(t0 + MINUTE); // RELAY_MIN_BACKOFF, no jitter
    expect(await schedule.score(id)).toBe(t0 + MINUTE);

    // Not due yet: a redelivered event and the claim loop both leave it alone.
    await deliverRemote(deps, event);
    expect((await delivery(id)).attempts).toBe(1);
    expect(await publishDue({ pool: infra.pool, broker, schedule, clock, log })).toBe(0);
    expect(await schedule.score(id)).toBe(t0 + MINUTE);

    mx.replies.delete("later@remote.test");
    clock.t = t0 + MINUTE + 1000;
    // Others deferred by earlier tests may be due too; ours must be among them.
    expect(await publishDue({ pool: infra.pool, broker, schedule, clock, log })).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await delivery(id)).state === "delivered", 15_000, "retry delivered");
    expect(consumed.filter((e) => e.deliveries.some((x) => x.deliveryId === id))).toHaveLength(1);
    const done = await delivery(id);
    expect(done.attempts).toBe(2);
    expect(done.lastResponse).toMatch(/^250 /);
    expect(await schedule.score(id)).toBeUndefined();

    // The same event again (a broker redelivery): nothing is sent twice.
    await deliverRemote(deps, event);
    await broker.publish(event);
    await eventually(async () => consumed.filter((e) => e.deliveries.some((x) => x.deliveryId === id)).length === 2, 15_000, "redelivery consumed");
    expect(mx.for("later@remote.test")).toHaveLength(1);
    expect((await delivery(id)).attempts).toBe(2);
  });

  it("never sends twice when two copies handle the same event at once", async () => {
    const event = await submit(["twice@remote.test"]);
    await Promise.all([deliverRemote(deps, event), deliverRemote(deps, event), deliverRemote(deps, event)]);
    expect((await delivery(idOf(event))).state).toBe("delivered");
    expect(mx.for("twice@remote.test")).toHaveLength(1);
  });

  it("defers when the connection is dropped or refused", async () => {
    mx.drop = true;
    try {
      const dropped = await submit(["dropped@remote.test"]);
      await deliverRemote(deps, dropped);
      const d = await delivery(idOf(dropped));
      expect(d.state).toBe("deferred");
      expect(d.lastResponse).toMatch(/^4\.4\.\d/);
    } finally {
      mx.drop = false;
    }
    const refused = await submit(["someone@refused.test"], "sender@correo.test", "refused.test");
    await deliverRemote(deps, refused);
    const r = await delivery(idOf(refused));
    expect(r.state).toBe("deferred");
    expect(r.lastResponse).toMatch(/^4\.4\.1 connection refused/);
    expect(await schedule.score(idOf(refused))).toBe(r.nextAttemptAt!.getTime());
  });

  it("expires a delivery that still defers once the lifetime has passed", async () => {
    const now = clock.t;
    clock.t = now - 5 * DAY - MINUTE; // accepted five days and a minute ago
    const event = await submit(["stale@remote.test"]);
    clock.t = now;
    mx.replies.set("stale@remote.test", 451);
    await deliverRemote(deps, event);
    const d = await delivery(idOf(event));
    expect(d.state).toBe("expired");
    expect(d.nextAttemptAt).toBeNull();
    expect(d.lastResponse).toMatch(/^5\.4\.7 .*451 4\.3\.0/);
    expect(await schedule.score(idOf(event))).toBeUndefined();
  });

  it("rebuilds the schedule from PostgreSQL after Redis lost it (FLUSHALL)", async () => {
    mx.replies.set("flush@remote.test", 451);
    const event = await submit(["flush@remote.test"]);
    await deliverRemote(deps, event);
    const id = idOf(event);
    const d = await delivery(id);
    expect(d.state).toBe("deferred");
    const { rows } = await infra.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM deliveries WHERE state = 'deferred' AND route = 'remote'",
    );
    expect(rows[0]!.n).toBeGreaterThan(0);

    await redis.del(schedule.key);
    expect(await schedule.size()).toBe(0);
    expect(await reconcileSchedule({ pool: infra.pool, schedule, log })).toBe(rows[0]!.n);
    expect(await schedule.size()).toBe(rows[0]!.n);
    expect(await schedule.score(id)).toBe(d.nextAttemptAt!.getTime());
    // A second pass finds nothing missing and moves nothing.
    expect(await reconcileSchedule({ pool: infra.pool, schedule, log })).toBe(0);
  });

  it("never hands the same due entry to two concurrent claims", async () => {
    const other = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const prefix = `${infra.prefix}:claims`;
      const a = new RetrySchedule(redis, prefix);
      const b = new RetrySchedule(other, prefix);
      const ids = Array.from({ length: 300 }, () => randomUUID());
      const now = new Date();
      await a.add(ids.map((deliveryId, i) => ({ deliveryId, dueAt: new Date(now.getTime() - i) })));
      await a.add([{ deliveryId: "not-due", dueAt: new Date(now.getTime() + MINUTE) }]);
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).claimDue(now, 40)),
      );
      const all = claims.flat();
      expect(new Set(all).size).toBe(all.length);
      expect(new Set(all)).toEqual(new Set(ids));
      expect(await a.size()).toBe(1);
    } finally {
      other.disconnect();
    }
  });

  it("delivers a message in two statements (the claim and the outcome) and, with a kept slot, no Redis command", async () => {
    const kept = new DestinationSlots((...args) => schedule.acquireSlot(...args), { maxWaiting: 8, maxWaitMs: 10_000, pollMs: 50, keepIdleMs: 60_000 });
    // With the copy's lease renewer on: an attempt shorter than a third of the lease is never renewed.
    const counted = { ...deps, slots: kept, leases: new AttemptLeases(infra.pool, clock, deps.policy.attemptLeaseMs, log, kept), signingKey: async () => undefined };
    await deliverRemote(counted, await submit(["warm@remote.test"])); // takes the slot the next one reuses
    const event = await submit(["counted@remote.test"]);
    // The outbox publishes accepted events and deletes their rows in the background: let it
    // finish first, so that only the relay's own statements are counted.
    for (let i = 0; i < 400; i++) {
      const { rows } = await infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox");
      if (rows[0]!.n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const redisCommands: string[] = [];
    const { statements, restore } = await recordStatements(infra.pool);
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      redisCommands.push(command.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof redis.sendCommand;
    try {
      await deliverRemote(counted, event);
    } finally {
      restore();
      redis.sendCommand = send;
      kept.close();
    }
    expect((await delivery(idOf(event))).state).toBe("delivered");
    expect(statements).toHaveLength(2);
    expect(redisCommands).toEqual([]);
  });
});
