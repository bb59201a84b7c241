import "./instrument.js";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { deliverLocal } from "./deliver.js";

void runService("mailbox", async ({ config, log, pool, broker, onStop }) => {
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const deps = { pool, outbox, clock: systemClock, log };
  await broker.consume("mailbox", ["delivery.local"], (event) => deliverLocal(deps, event));
});
