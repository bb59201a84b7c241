import "./instrument.js";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { deliverLocal, localDeliveryMetricsAtZero, pruneFingerprints } from "./deliver.js";

const PRUNE_INTERVAL_MS = 10 * 60_000;

void runService("mailbox", async ({ config, log, pool, broker, onStop }) => {
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const window = config.duplicateWindow;
  if (window !== null) {
    const prune = setInterval(() => {
      pruneFingerprints(pool, window, systemClock.now()).catch((err: Error) => log.warn({ err: err.message }, "fingerprint prune failed; will retry"));
    }, PRUNE_INTERVAL_MS);
    prune.unref();
    onStop(() => clearInterval(prune));
  }

  localDeliveryMetricsAtZero();
  const deps = { pool, outbox, clock: systemClock, log, duplicateWindowMs: window };
  await broker.consume("mailbox", ["delivery.local"], (event) => deliverLocal(deps, event));
});
