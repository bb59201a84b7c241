import "./instrument.js";
import { findTransport } from "@correo/directory";
import { runService } from "@correo/runtime";
import { systemClock } from "@correo/spool";
import { deliverRemote, type RelayDeps } from "./deliver.js";
import { createDns, resolveRoute } from "./mx-resolver.js";
import { reconcileSchedule } from "./reconcile.js";
import { publishDue, RetrySchedule } from "./schedule.js";
import { sendMessage } from "./smtp-client.js";

const CLAIM_INTERVAL_MS = 1000;
const RECONCILE_INTERVAL_MS = 60_000;

void runService("relay-queue", async ({ config, log, pool, broker, redis, onStop }) => {
  const schedule = new RetrySchedule(await redis(), config.prefix);
  const dns = createDns(config.dnsServers);
  const deps: RelayDeps = {
    pool,
    clock: systemClock,
    schedule,
    route: (domain) => resolveRoute({ dns, findTransport: (d) => findTransport(pool, d), smtpPort: config.relaySmtpPort }, domain),
    send: sendMessage,
    policy: {
      minBackoffMs: config.minBackoff,
      maxBackoffMs: config.maxBackoff,
      maxLifetimeMs: config.maxLifetime,
      connectTimeoutMs: config.connectTimeout,
      heloName: config.hostname,
      // Long enough for a few connect timeouts and the 10-minute wait for the final reply.
      attemptLeaseMs: 5 * config.connectTimeout + 15 * 60_000,
    },
    random: Math.random,
    log,
  };

  await reconcileSchedule({ pool, schedule, log });
  await broker.consume("relay-queue", ["delivery.remote"], (event) => deliverRemote(deps, event));

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
});
