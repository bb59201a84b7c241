import "./instrument.js";
import { DirectoryCache } from "@correo/directory";
import { createDns, resolveRoute } from "@correo/mx";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { srsSettings } from "@correo/srs";
import { routeMessage, routingMetricsAtZero, type RouterDeps } from "./route-message.js";
import { startRedrive } from "./redrive.js";

// Generic plans: every statement of routing looks its rows up by id, and its
// transition-and-announce was re-planned for every message (0.43 ms of planning
// against 0.28 ms of execution, docs/performance.md).
const ROUTING_SERVICE = { genericPlans: true };

void runService("routing", async ({ config, log, pool, broker, onStop }) => {
  routingMetricsAtZero();
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const dns = createDns(config.dnsServers);
  const srs = srsSettings(config);
  if (srs) log.info({ srsDomain: srs.domain, secrets: srs.secrets.length }, "SRS on: mail an alias forwards outside goes out with an SRS envelope sender");
  else log.info("SRS off (SRS_SECRETS or SRS_DOMAIN unset): mail an alias forwards outside keeps its original envelope sender and may fail SPF at the next hop");
  const directory = new DirectoryCache(pool, { ttlMs: config.directoryCacheTtl, databaseUrl: config.databaseUrl, applicationName: `correo-routing ${process.pid} directory`, log });
  await directory.start();
  onStop(() => directory.close());
  const deps: RouterDeps = {
    pool,
    directory,
    outbox,
    clock: systemClock,
    redriveAfterMs: config.redriveAfter,
    route: (domain) => resolveRoute({ dns, findTransport: (d) => directory.findTransport(d), smtpPort: config.relaySmtpPort }, domain),
    deferral: { minBackoffMs: config.minBackoff, maxBackoffMs: config.maxBackoff, maxLifetimeMs: config.maxLifetime },
    random: Math.random,
    postmaster: config.postmasterAddress,
    srs,
    complaintsAddress: config.complaintsAddress,
    log,
  };
  await broker.consume("routing", ["message.submitted"], (event) => routeMessage(deps, event));

  onStop(startRedrive({ pool, broker, clock: systemClock, log }, { intervalMs: config.redriveInterval, postponeMs: config.redriveAfter }));
}, ROUTING_SERVICE);
