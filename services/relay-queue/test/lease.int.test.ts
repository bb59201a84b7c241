import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import type { Broker } from "@correo/broker";
import type { DeliveryRemote } from "@correo/contracts";
import { addTransport } from "@correo/directory";
import { acceptMessage, loadDeliveries, Outbox, systemClock, type Delivery } from "@correo/spool";
import { eventually, type IsolatedInfra } from "@correo/testkit";
import { deliverRemote, type RelayDeps } from "../src/deliver.js";
import { AttemptLeases } from "../src/leases.js";
import { nextHop } from "../src/route-policy.js";
import { RetrySchedule } from "../src/schedule.js";
import { DestinationSlots } from "../src/slots.js";
import { sendMessage } from "../src/smtp-client.js";
import type { FakeMx } from "./fake-mx.js";
import { DAY, log, MINUTE, noDns, routeRemote, startRelaySuite, testPolicy, type RelaySuite } from "./relay-world.js";

// Issue 10: a short attempt lease that the live copy renews. The remote host holds the
// final reply for many leases; real time throughout (the renewer runs on a timer).
const LEASE_MS = 600;
const HOLD_MS = 6 * LEASE_MS;
const DOMAIN = "slow.test";

let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let redis: Redis;
let schedule: RetrySchedule;
let mx: FakeMx;
let suite: RelaySuite | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One relay-queue "copy": its slots and, unless told, its lease renewer. */
function copy(renew = true): { deps: RelayDeps; leases?: AttemptLeases } {
  const slots = new DestinationSlots((...args) => schedule.acquireSlot(...args), { maxWaiting: 0, maxWaitMs: 0, pollMs: 50 }, (held, now, ttlMs) =>
    schedule.renewSlots(held, now, ttlMs),
  );
  const leases = renew ? new AttemptLeases(infra.pool, systemClock, LEASE_MS, log, slots) : undefined;
  const deps: RelayDeps = {
    pool: infra.pool,
    clock: systemClock,
    schedule,
    slots,
    ...(leases ? { leases } : {}),
    nextHop: (domain, transport) => nextHop({ dns: noDns, smtpPort: 25 }, domain, transport),
    send: sendMessage,
    policy: { ...testPolicy, attemptLeaseMs: LEASE_MS, destinationConcurrency: 1, maxLifetimeMs: 5 * DAY, minBackoffMs: MINUTE },
    random: () => 0.5,
    log,
  };
  return { deps, ...(leases ? { leases } : {}) };
}

beforeAll(async () => {
  suite = await startRelaySuite("relay-lease", (fake) => {
    fake.dataDelayMs = HOLD_MS;
  });
  ({ infra, broker, outbox, redis, schedule, mx } = suite);
  await addTransport(infra.pool, DOMAIN, "127.0.0.1", suite.mxPort);
});

afterAll(async () => {
  await suite?.close();
});

async function submit(recipient: string): Promise<DeliveryRemote> {
  const raw = Buffer.from(`From: <sender@correo.test>\r\nTo: ${recipient}\r\nSubject: lease\r\nMessage-ID: <${randomUUID()}@correo.test>\r\n\r\nHi.\r\n`);
  const accepted = await acceptMessage(
    infra.pool,
    outbox,
    { raw, envelopeFrom: "sender@correo.test", recipients: [recipient], source: "smtp" },
    { clock: systemClock, redriveAfterMs: 2 * MINUTE },
  );
  await routeRemote(infra.pool, { t: Date.now(), now: () => new Date() }, accepted.deliveries, DOMAIN);
  return { type: "delivery.remote", version: 1, messageId: accepted.messageId, blobId: accepted.blobId, envelopeFrom: "sender@correo.test", domain: DOMAIN, deliveries: accepted.deliveries };
}

async function delivery(id: string): Promise<Delivery> {
  const [d] = await loadDeliveries(infra.pool, [id]);
  if (!d) throw new Error(`no delivery ${id}`);
  return d;
}

/** The holders of the destination's connection slots whose expiry is still ahead. */
async function liveSlots(): Promise<number> {
  return (await redis.zrangebyscore(`${infra.prefix}:relay:slots:${DOMAIN}`, Date.now(), "+inf")).length;
}

describe("the attempt lease, renewed by the live copy", () => {
  it("holds a delivery (and its slot) while the remote host keeps the final reply for many leases", async () => {
    const rcpt = `held-${randomUUID().slice(0, 8)}@${DOMAIN}`;
    const event = await submit(rcpt);
    const a = copy();
    const other = copy(false);
    const attempt = deliverRemote(a.deps, event);
    // The host has the message and is sitting on its reply.
    await eventually(async () => mx.for(rcpt).length === 1, 10_000, "message at the host");
    await sleep(3 * LEASE_MS);
    // Three leases later the lease and the slot are still ahead: they were renewed.
    const { rows: leased } = await infra.pool.query<{ ahead: boolean; state: string }>(
      "SELECT leased_until > now() AS ahead, state FROM deliveries WHERE id = $1",
      [event.deliveries[0]!.deliveryId],
    );
    expect(leased[0]).toEqual({ ahead: true, state: "routed" });
    expect(await liveSlots()).toBe(1);
    // Another copy, given the same event, finds the delivery leased and leaves it.
    await deliverRemote(other.deps, event);
    expect(mx.for(rcpt)).toHaveLength(1);
    await attempt;
    expect((await delivery(event.deliveries[0]!.deliveryId)).state).toBe("delivered");
    expect(mx.for(rcpt)).toHaveLength(1);
    // The attempt is over: nothing is renewed any more and its slot is gone.
    const { rows } = await infra.pool.query<{ leased_until: Date | null }>("SELECT leased_until FROM deliveries WHERE id = $1", [
      event.deliveries[0]!.deliveryId,
    ]);
    expect(rows[0]!.leased_until).toBeNull();
    expect(await liveSlots()).toBe(0);
  });

  it("lets another copy take the delivery and the slot within about one lease once the attempting copy stops renewing", async () => {
    const rcpt = `dead-${randomUUID().slice(0, 8)}@${DOMAIN}`;
    const event = await submit(rcpt);
    const dead = copy();
    const other = copy();
    const attempt = deliverRemote(dead.deps, event);
    await eventually(async () => mx.for(rcpt).length === 1, 10_000, "message at the host");
    await sleep(2 * LEASE_MS);
    expect(await liveSlots()).toBe(1);
    // The copy "dies": its renewals stop (its socket stays open, as a SIGKILLed process's
    // would until the host times out). Its lease and slot lapse; the other copy retries.
    dead.leases!.stop();
    await eventually(
      async () => {
        await deliverRemote(other.deps, event);
        return mx.for(rcpt).length === 2;
      },
      // Generous for a slow machine; it takes about one lease (plus the host's hold).
      30_000,
      "the other copy's attempt",
    );
    await attempt;
    expect((await delivery(event.deliveries[0]!.deliveryId)).state).toBe("delivered");
  });
});
