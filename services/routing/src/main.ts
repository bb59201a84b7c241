import "./instrument.js";
import { findTransport } from "@correo/directory";
import { createDns, resolveRoute } from "@correo/mx";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { routeMessage, routingMetricsAtZero, type RouterDeps } from "./route-message.js";
import { startRedrive } from "./redrive.js";

void runService("routing", async ({ config, log, pool, broker, onStop }) => {
  routingMetricsAtZero();
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const dns = createDns(config.dnsServers);
  const deps: RouterDeps = {
    pool,
    outbox,
    clock: systemClock,
    redriveAfterMs: config.redriveAfter,
    route: (domain) => resolveRoute({ dns, findTransport: (d) => findTransport(pool, d), smtpPort: config.relaySmtpPort }, domain),
    deferral: { minBackoffMs: config.minBackoff, maxBackoffMs: config.maxBackoff, maxLifetimeMs: config.maxLifetime },
    random: Math.random,
    postmaster: config.postmasterAddress,
    complaintsAddress: config.complaintsAddress,
    log,
  };
  await broker.consume("routing", ["message.submitted"], (event) => routeMessage(deps, event));

  onStop(startRedrive({ pool, broker, clock: systemClock, log }, { intervalMs: config.redriveInterval, postponeMs: config.redriveAfter }));
});
