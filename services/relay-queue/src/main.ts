import "./instrument.js";
import { createPool } from "@correo/db";
import { findDkimKey, txtResolver } from "@correo/dkim";
import { createDns, parseDnsServers } from "@correo/mx";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { deliverRemote, remoteDeliveryMetricsAtZero, type RelayDeps } from "./deliver.js";
import { dsnMetricsAtZero, sweepDsns } from "./dsn-sweeper.js";
import { deliverInbound, inboundMetricsAtZero, type InboundDeps } from "./inbound/deliver-inbound.js";
import { reconcileRecent, reconcileSchedule } from "./reconcile.js";
import { nextHop } from "./route-policy.js";
import { publishDue, RetrySchedule } from "./schedule.js";
import { AttemptLeases } from "./leases.js";
import { DestinationSlots } from "./slots.js";
import { pooledSender } from "./smtp-client.js";
import { startWebhookWorker } from "./webhooks.js";

const CLAIM_INTERVAL_MS = 1000;
const RECONCILE_INTERVAL_MS = 60_000;
const RECENT_INTERVAL_MS = 5000;
// The consumer's prefetch (the broker's default, 16): at most half of it waits for a
// busy destination's slot, the other half keeps serving other destinations.
const PREFETCH = 16;
// A released slot stays with this copy for half a second: the next delivery to a busy
// destination takes it without a Redis round trip.
const SLOT_WAIT = { maxWaiting: PREFETCH / 2, maxWaitMs: 10_000, pollMs: 100, keepIdleMs: 500 };
/** On stop, how long attempts under way may take to finish and record their outcomes. */
const DRAIN_MS = 5000;
/** Connections for the webhook worker: a pass, a claim and an outcome batch at a time, and one to spare. */
const WEBHOOK_POOL_SIZE = 4;

// Generic plans: the relay's claim and outcome statements look their rows up by id and
// were re-planned for every attempt (0.42 and 0.14 ms of planning, docs/performance.md).
const RELAY_QUEUE_SERVICE = { genericPlans: true };

void runService("relay-queue", async ({ config, log, pool, broker, redis, onStop }) => {
  remoteDeliveryMetricsAtZero();
  dsnMetricsAtZero();
  inboundMetricsAtZero();
  const schedule = new RetrySchedule(await redis(), config.prefix);
  const dns = createDns(config.dnsServers);
  const smtp = pooledSender({ maxConnections: config.destinationConcurrency, idleTimeoutMs: config.connectionIdle });
  onStop(() => smtp.close());
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());
  const slots = new DestinationSlots((...args) => schedule.acquireSlot(...args), SLOT_WAIT, (held, now, ttlMs) => schedule.renewSlots(held, now, ttlMs));
  // RELAY_ATTEMPT_LEASE (30s): this copy renews the leases and slots of its attempts under
  // way every few seconds, so an attempt may wait the 10 minutes for the final reply
  // (RFC 5321 §4.5.3.2.6) while a copy killed mid-attempt frees them within one lease.
  const leases = new AttemptLeases(pool, systemClock, config.attemptLease, log, slots);
  onStop(() => leases.stop());
  const deps: RelayDeps = {
    pool,
    clock: systemClock,
    schedule,
    slots,
    leases,
    nextHop: (domain, transport) => nextHop({ dns, smtpPort: config.relaySmtpPort }, domain, transport),
    send: smtp.send,
    signingKey: (domain) => findDkimKey(pool, domain),
    policy: {
      minBackoffMs: config.minBackoff,
      maxBackoffMs: config.maxBackoff,
      maxLifetimeMs: config.maxLifetime,
      connectTimeoutMs: config.connectTimeout,
      heloName: config.hostname,
      attemptLeaseMs: config.attemptLease,
      destinationConcurrency: config.destinationConcurrency,
      parkAfterFailures: config.parkAfter,
    },
    random: Math.random,
    // RFC 8617: forwarded mail is ARC-sealed; RFC 8601 §2.5: the authserv-id defaults to our host name.
    arc: { authservId: config.authservId ?? config.hostname, resolver: txtResolver(config.dnsServers ? parseDnsServers(config.dnsServers) : undefined) },
    log,
  };
  // Inbound routes (issue 15) are here, not in the mailbox service: their retries, leases
  // and bounces are the relay's (schedule, reconcile, DSN sweeper); only a fallback to a
  // mailbox goes through the mailbox service's local path (delivery.local).
  const inbound: InboundDeps = {
    pool,
    outbox,
    clock: systemClock,
    schedule,
    policy: deps.policy,
    random: Math.random,
    publicUrl: config.inboundPublicUrl,
    linkTtlMs: config.inboundLinkTtl,
    postTimeoutMs: config.inboundPostTimeout,
    redriveAfterMs: config.redriveAfter,
    log,
  };
  const dsn = {
    pool,
    outbox,
    clock: systemClock,
    log,
    reportingMta: config.hostname,
    delayWarningMs: config.delayWarning,
    maxLifetimeMs: config.maxLifetime,
    redriveAfterMs: config.redriveAfter,
  };

  await reconcileSchedule({ pool, schedule, log });
  // Attempts under way, so that a stop lets them record what the remote host said
  // (steps run before the broker, Redis and the pool close), and sends the ones
  // waiting for a slot back to the schedule instead of leaving them leased.
  const active = new Set<Promise<void>>();
  onStop(async () => {
    slots.close();
    await Promise.race([Promise.allSettled([...active]), new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
  });
  await broker.consume(
    "relay-queue",
    ["delivery.remote"],
    (event) => {
      const attempt = deliverRemote(deps, event);
      active.add(attempt);
      return attempt.finally(() => active.delete(attempt));
    },
    { prefetch: PREFETCH },
  );
  await broker.consume(
    "inbound",
    ["delivery.inbound"],
    (event) => {
      const attempt = deliverInbound(inbound, event);
      active.add(attempt);
      return attempt.finally(() => active.delete(attempt));
    },
    { prefetch: PREFETCH },
  );

  const every = (ms: number, what: string, fn: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: Error) => log.warn({ err: err.message }, `${what} failed; will retry`))
        .finally(() => (running = false));
    }, ms);
    onStop(() => clearInterval(timer));
  };
  every(CLAIM_INTERVAL_MS, "retry claim", () => publishDue({ pool, broker, schedule, clock: systemClock, log }));
  every(RECONCILE_INTERVAL_MS, "schedule reconcile", () => reconcileSchedule({ pool, schedule, log }));
  every(RECENT_INTERVAL_MS, "recent changes reconcile", () => reconcileRecent({ pool, schedule, now: systemClock.now() }, 3 * RECENT_INTERVAL_MS));
  every(config.dsnInterval, "DSN sweep", () => sweepDsns(dsn));
  // Issue 15: webhooks, on their own queue (services/relay-queue/src/webhooks.ts), and on a
  // pool of their own whose commits do not wait for the disk: webhook state is derived
  // from the timeline (a lost dispatch is read again, a lost claim or outcome means one
  // POST more, which receivers dedupe by event id), and mail's pool is not theirs to fill.
  const webhookPool = createPool(config.databaseUrl, WEBHOOK_POOL_SIZE, {
    applicationName: `correo-relay-queue webhooks ${process.pid}`,
    genericPlans: true,
    asyncCommit: true,
    onConnectionError: (err) => log.warn({ err: err.message }, "PostgreSQL connection lost; the pool reconnects"),
  });
  onStop(() => webhookPool.end());
  await startWebhookWorker({ pool: webhookPool, broker, clock: systemClock, log, config, onStop });
}, RELAY_QUEUE_SERVICE);
