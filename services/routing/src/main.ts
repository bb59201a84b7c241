import "./instrument.js";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { routeMessage } from "./route-message.js";
import { redriveOverdue } from "./redrive.js";


void runService("routing", async ({ config, log, pool, broker, onStop }) => {
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const deps = { pool, outbox, clock: systemClock, redriveAfterMs: config.redriveAfter, log };
  await broker.consume("routing", ["message.submitted"], (event) => routeMessage(deps, event));

  const redrive = setInterval(
    () => void redriveOverdue({ pool, broker, clock: systemClock, log }, config.redriveAfter).catch(() => undefined),
    config.redriveInterval,
  );
  onStop(() => clearInterval(redrive));
});
