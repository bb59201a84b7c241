import "./instrument.js";
import { runService } from "@correo/runtime";
import { Outbox, systemClock } from "@correo/spool";
import { buildHttpApi } from "./http/app.js";


void runService("submission", async ({ config, log, pool, broker, onStop }) => {
  const outbox = new Outbox(pool, broker, log);
  outbox.startSweeper(config.outboxSweepInterval);
  onStop(() => outbox.stop());

  const app = buildHttpApi({
    logger: log,
    pool,
    outbox,
    clock: systemClock,
    hostname: config.hostname,
    maxMessageSize: config.maxMessageSize,
    redriveAfterMs: config.redriveAfter,
  });
  await app.listen({ host: config.listenHost, port: config.httpPort });
  // Stop taking requests first; the pool and broker close after in-flight ones finish.
  onStop(() => app.close());
  log.info({ httpPort: config.httpPort }, "HTTP submission API listening");
});
