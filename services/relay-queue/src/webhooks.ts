import type { Broker } from "@correo/broker";
import type { Pool } from "@correo/db";
import type { Clock } from "@correo/spool";
import { atZero, counter, histogram, metricNames, type Logger } from "@correo/telemetry";
import { dispatchTimeline, redriveDue, WebhookDeliverer, type DueDelivery } from "@correo/webhooks";

export interface WebhookWorkerConfig {
  webhookTimeout: number;
  webhookConcurrency: number;
  webhookDisableAfter: number;
  webhookDispatchInterval: number;
  redriveAfter: number;
}

const SWEEP_INTERVAL_MS = 1000;
/** The webhooks queue's prefetch, in messages of up to 100 deliveries; each endpoint is bounded by WEBHOOK_CONCURRENCY. */
const PREFETCH = 8;

const dispatched = () => counter(metricNames.webhookEventsDispatched, "Webhook deliveries (event × endpoint) created from the timeline");
const attempts = () => counter(metricNames.webhookAttempts, "Webhook POSTs, by outcome (ok: a 2xx answer)");
const duration = () => histogram(metricNames.webhookAttemptDuration, "Time a webhook endpoint took to answer", "s", [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
const disabled = () => counter(metricNames.webhookEndpointsDisabled, "Webhook endpoints disabled for failing");

/**
 * The webhook worker, in relay-queue because relay-queue is Correo's outbound
 * deliverer (timeouts, backoff, per-destination concurrency, a sweeper): it reads the
 * timeline into webhook deliveries, consumes the webhooks queue (a queue of its own, so
 * no endpoint's backlog sits in front of mail) and re-drives what is due. Returns the
 * timers' stop.
 */
export async function startWebhookWorker(deps: {
  pool: Pool;
  broker: Broker;
  clock: Clock;
  log: Logger;
  config: WebhookWorkerConfig;
  onStop: (fn: () => void | Promise<void>) => void;
}): Promise<void> {
  const { pool, broker, clock, log, config } = deps;
  atZero(attempts(), [{ outcome: "ok" }, { outcome: "failed" }]);
  atZero(dispatched());
  atZero(disabled());
  const publish = async (due: DueDelivery[]) => {
    // Up to 100 deliveries a message, the confirms in flight together.
    const messages = [];
    for (let i = 0; i < due.length; i += 100) messages.push(due.slice(i, i + 100));
    await Promise.all(messages.map((deliveries) => broker.publish({ type: "webhook.due", version: 1, deliveries })));
  };
  // Published after commit; what the broker does not take, the sweeper re-drives.
  const hand = (due: DueDelivery[]) =>
    publish(due).catch((err: Error) => log.warn({ err: err.message, count: due.length }, "webhook work not published; the sweeper will re-drive it"));
  const deliverer = new WebhookDeliverer({
    pool,
    now: () => clock.now(),
    publish,
    log,
    timeoutMs: config.webhookTimeout,
    concurrencyPerEndpoint: config.webhookConcurrency,
    // A slot not free within the time one POST may take: the endpoint is slow, not busy.
    maxSlotWaitMs: config.webhookTimeout,
    maxFailures: config.webhookDisableAfter,
    redriveAfterMs: config.redriveAfter,
    onAttempt: (ok, ms) => {
      attempts().add(1, { outcome: ok ? "ok" : "failed" });
      duration().record(ms / 1000);
    },
    onDisabled: () => disabled().add(1),
  });
  // Acked once every delivery it names has an outcome recorded (or was not due any more).
  await broker.consume("webhooks", ["webhook.due"], async (event) => {
    await Promise.all(event.deliveries.map((d) => deliverer.deliver(d)));
  }, { prefetch: PREFETCH });

  const every = (ms: number, what: string, fn: () => Promise<unknown>) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((err: Error) => log.warn({ err: err.message }, `${what} failed; will retry`))
        .finally(() => (running = false));
    }, ms);
    deps.onStop(() => clearInterval(timer));
  };
  every(config.webhookDispatchInterval, "webhook dispatch", async () => {
    for (;;) {
      const r = await dispatchTimeline(pool, clock.now(), { redriveAfterMs: config.redriveAfter });
      if (r.due.length) {
        dispatched().add(r.due.length);
        await hand(r.due);
      }
      if (!r.more) return;
    }
  });
  every(SWEEP_INTERVAL_MS, "webhook sweep", async () => {
    const due = await redriveDue(pool, clock.now(), config.redriveAfter);
    if (due.length) await hand(due);
  });
}
