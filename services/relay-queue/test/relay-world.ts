import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { Broker } from "@correo/broker";
import type { Queryable } from "@correo/db";
import type { DeliveryRemote } from "@correo/contracts";
import { findDkimKey } from "@correo/dkim";
import type { Dns } from "@correo/mx";
import { acceptMessage, Outbox, transition, type Submission } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { freePort, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { deliverRemote, type RelayDeps, type RelayPolicy } from "../src/deliver.js";
import type { DsnDeps } from "../src/dsn-sweeper.js";
import { nextHop } from "../src/route-policy.js";
import { RetrySchedule } from "../src/schedule.js";
import { DestinationSlots, type SlotWaitPolicy } from "../src/slots.js";
import { pooledSender, type PooledSender } from "../src/smtp-client.js";
import { FakeMx } from "./fake-mx.js";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const log = createLogger("relay-test", "warn");

/** Every name must come from a transport override here; a DNS query is a test bug. */
export const noDns: Dns = {
  resolveMx: async (n) => Promise.reject(Object.assign(new Error(`unexpected MX lookup of ${n}`), { code: "ESERVFAIL" })),
  resolve4: async (n) => Promise.reject(Object.assign(new Error(`unexpected A lookup of ${n}`), { code: "ESERVFAIL" })),
  resolve6: async (n) => Promise.reject(Object.assign(new Error(`unexpected AAAA lookup of ${n}`), { code: "ESERVFAIL" })),
};

export const testPolicy: RelayPolicy = {
  minBackoffMs: MINUTE,
  maxBackoffMs: HOUR,
  maxLifetimeMs: 5 * DAY,
  connectTimeoutMs: 3000,
  heloName: "relay.correo.test",
  attemptLeaseMs: 2 * MINUTE,
  destinationConcurrency: 10,
  parkAfterFailures: 3,
};

/** The test clock: time moves only when a test moves it. */
export interface TestClock {
  t: number;
  now(): Date;
}

/** One relay-queue "copy": its own Redis connection, schedule owner, broker connection and SMTP pools. */
export interface RelayCopy {
  deps: RelayDeps;
  broker: Broker;
  redis: Redis;
  smtp: PooledSender;
  consumed: DeliveryRemote[];
  /** Events being handled right now. */
  active(): number;
  close(): Promise<void>;
}

/** Routes accepted deliveries to remote delivery the way routing does. */
export async function routeRemote(pool: Queryable, clock: TestClock, deliveries: { deliveryId: string }[], domain: string): Promise<void> {
  for (const d of deliveries) {
    await transition(pool, d.deliveryId, {
      state: "routed",
      event: "routed",
      route: "remote",
      at: clock.now(),
      nextAttemptAt: new Date(clock.t + 2 * MINUTE),
      response: `remote domain ${domain}`,
    });
  }
}

export async function startCopy(
  infra: IsolatedInfra,
  clock: TestClock,
  policy: Partial<RelayPolicy> = {},
  slotWait: SlotWaitPolicy = { maxWaiting: 8, maxWaitMs: 10_000, pollMs: 50 },
): Promise<RelayCopy> {
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  const redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
  const smtp = pooledSender({ maxConnections: 4, idleTimeoutMs: 2000 });
  const schedule = new RetrySchedule(redis, infra.prefix);
  const deps: RelayDeps = {
    pool: infra.pool,
    clock,
    schedule,
    slots: new DestinationSlots((...args) => schedule.acquireSlot(...args), slotWait),
    nextHop: (domain, transport) => nextHop({ dns: noDns, smtpPort: 25 }, domain, transport),
    send: smtp.send,
    signingKey: (domain) => findDkimKey(infra.pool, domain),
    policy: { ...testPolicy, ...policy },
    random: () => 0.5,
    log,
  };
  const consumed: DeliveryRemote[] = [];
  let active = 0;
  await broker.consume("relay-queue", ["delivery.remote"], async (event) => {
    consumed.push(event);
    active++;
    try {
      await deliverRemote(deps, event);
    } finally {
      active--;
    }
  });
  return {
    deps,
    broker,
    redis,
    smtp,
    consumed,
    active: () => active,
    async close() {
      await broker.close();
      smtp.close();
      redis.disconnect();
    },
  };
}

export interface World {
  infra: IsolatedInfra;
  outbox: Outbox;
  outboxBroker: Broker;
  clock: TestClock;
  dsnDeps(): DsnDeps;
  /** Accepts a message and routes its recipients to remote the way routing does. */
  submit(recipients: string[], opts?: Partial<Submission> & { domain?: string; from?: string }): Promise<DeliveryRemote>;
  close(): Promise<void>;
}

export async function startWorld(suite: string): Promise<World> {
  const infra = await isolatedInfra(suite);
  const outboxBroker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await outboxBroker.connect();
  const outbox = new Outbox(infra.pool, outboxBroker, log);
  const clock: TestClock = { t: Date.parse("2026-12-01T09:00:00Z"), now: () => new Date(clock.t) };
  return {
    infra,
    outbox,
    outboxBroker,
    clock,
    dsnDeps: () => ({
      pool: infra.pool,
      outbox,
      clock,
      log,
      reportingMta: "mx.correo.test",
      delayWarningMs: 4 * HOUR,
      maxLifetimeMs: 5 * DAY,
      redriveAfterMs: 2 * MINUTE,
    }),
    async submit(recipients, opts = {}) {
      const domain = opts.domain ?? "remote.test";
      const from = opts.from ?? "ana@hosted.test";
      const envelopeFrom = opts.envelopeFrom ?? from;
      const raw =
        opts.raw ??
        Buffer.from(
          `From: Ana <${from}>\r\nTo: ${recipients.join(", ")}\r\nSubject: relay test\r\n` +
            `Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <${randomUUID()}@hosted.test>\r\n\r\nHello over SMTP.\r\n`,
        );
      const { domain: _d, from: _f, ...sub } = opts;
      const accepted = await acceptMessage(
        infra.pool,
        outbox,
        { ...sub, raw, envelopeFrom, recipients, source: sub.source ?? "smtp" },
        { clock, redriveAfterMs: 2 * MINUTE },
      );
      await routeRemote(infra.pool, clock, accepted.deliveries, domain);
      return { type: "delivery.remote", version: 1, messageId: accepted.messageId, blobId: accepted.blobId, envelopeFrom, domain, deliveries: accepted.deliveries };
    },
    async close() {
      await outboxBroker.close();
      await infra.cleanup();
    },
  };
}

/** What a suite that calls deliverRemote itself runs on (relay.int, lease.int). */
export interface RelaySuite {
  infra: IsolatedInfra;
  broker: Broker;
  outbox: Outbox;
  redis: Redis;
  schedule: RetrySchedule;
  /** A fake remote host listening on 127.0.0.1:mxPort. */
  mx: FakeMx;
  mxPort: number;
  /** Closes the broker, Redis and the fake host, then drops the suite's share of the servers. */
  close(): Promise<void>;
}

/** `configureMx` runs before the fake host listens. A failed start closes what it opened. */
export async function startRelaySuite(suite: string, configureMx: (mx: FakeMx) => void = () => undefined): Promise<RelaySuite> {
  const infra = await isolatedInfra(suite);
  let broker: Broker | undefined;
  let redis: Redis | undefined;
  let mx: FakeMx | undefined;
  const close = async () => {
    await broker?.close();
    redis?.disconnect();
    await mx?.close();
    await infra.cleanup();
  };
  try {
    broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
    await broker.connect();
    const outbox = new Outbox(infra.pool, broker, log);
    redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
    const schedule = new RetrySchedule(redis, infra.prefix);
    mx = new FakeMx();
    configureMx(mx);
    const mxPort = await freePort();
    await mx.listen(mxPort);
    return { infra, broker, outbox, redis, schedule, mx, mxPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}
