import amqp, { type ChannelModel } from "amqplib";
import type { Redis } from "ioredis";
import type { ServiceName } from "@correo/config";
import type { Pool } from "@correo/db";
import type { Topology } from "@correo/broker";
import { relayScheduleKey } from "@correo/queue";
import { FailureTally, metricNames, observeCounter, observeGauge, type Logger, type Reading } from "@correo/telemetry";

/**
 * Gauges observed from the truth at scrape time, registered by the shell for the
 * service each belongs to — so no service's business code carries them:
 *
 *   routing      deliveries pending by state (PostgreSQL), failed steps by domain and
 *                reply status (the delivery event log), outbox backlog, its queue and
 *                the dead-letter queue
 *   relay-queue  retry schedule size and overdue entries (Redis), its queue
 *   mailbox      its queue
 *
 * Several copies of a service report the same values; dashboards take `max`.
 */
export interface ObserverDeps {
  name: ServiceName;
  pool: Pool;
  amqpUrl: string;
  prefix: string;
  topology: Topology;
  redis: () => Promise<Redis>;
  log: Logger;
  onStop: (step: () => Promise<void> | void) => void;
}

export async function registerObservers(deps: ObserverDeps): Promise<void> {
  const onError = (metric: string, err: Error) => deps.log.debug({ metric, err: err.message }, "metric not observed");
  const queues = new QueueProbe(deps.amqpUrl, deps.log);
  deps.onStop(() => queues.close());
  const t = deps.topology;
  const watched: Partial<Record<ServiceName, string[]>> = {
    routing: [t.queues.routing.name, t.deadLetterQueue],
    "relay-queue": [t.queues["relay-queue"].name, t.queues.inbound.name, t.queues.webhooks.name],
    mailbox: [t.queues.mailbox.name],
  };
  // Every service: its pool's connections, idle and in use, and the queries waiting for one.
  const pool = deps.pool as Pool & { totalCount: number; idleCount: number; waitingCount: number };
  observeGauge(metricNames.dbPoolConnections, "PostgreSQL pool of this process: connections idle and in use, and requests waiting for one", async () => [
    { value: pool.idleCount, attributes: { state: "idle" } },
    { value: pool.totalCount - pool.idleCount, attributes: { state: "used" } },
    { value: pool.waitingCount, attributes: { state: "waiting" } },
  ], { onError });

  const mine = watched[deps.name];
  if (mine) {
    observeGauge(metricNames.queueDepth, "Messages ready in a work queue, not yet taken by a consumer (consumer lag)", async () =>
      (await queues.check(mine)).map((q) => ({ value: q.messageCount, attributes: { queue: q.queue } })),
    { onError });
    observeGauge(metricNames.queueConsumers, "Consumers attached to a work queue", async () =>
      (await queues.check(mine)).map((q) => ({ value: q.consumerCount, attributes: { queue: q.queue } })),
    { onError });
  }

  if (deps.name === "routing") {
    observeGauge(metricNames.deliveriesPending, "Deliveries not yet final, by state and route", () => pendingDeliveries(deps.pool), { onError });
    observeGauge(metricNames.outboxPending, "Events in the outbox not yet confirmed by RabbitMQ", async () => {
      const { rows } = await deps.pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox");
      return [{ value: Number(rows[0]!.n), attributes: {} }];
    }, { onError });
    const log = new FailureLog(deps.pool);
    await log.start();
    observeCounter(metricNames.deliveryFailures, "Deferrals, bounces and expiries, by route, recipient domain and reply status", () => log.read(), { onError });
  }

  if (deps.name === "relay-queue") {
    const key = relayScheduleKey(deps.prefix);
    let redis: Promise<Redis> | undefined;
    const connection = () => (redis ??= deps.redis());
    observeGauge(metricNames.relayScheduleSize, "Deliveries in the Redis retry schedule", async () => [
      { value: await (await connection()).zcard(key), attributes: {} },
    ], { onError });
    observeGauge(metricNames.relayScheduleOverdue, "Retry schedule entries already due and not yet claimed", async () => [
      { value: await (await connection()).zcount(key, "-inf", Date.now()), attributes: {} },
    ], { onError });
  }
}

/** Non-final deliveries by state and route; the partial index on next_attempt_at holds exactly these rows. */
async function pendingDeliveries(pool: Pool): Promise<Reading[]> {
  const { rows } = await pool.query<{ state: string; route: string | null; n: string }>(
    `SELECT state, route, count(*) AS n FROM deliveries WHERE next_attempt_at IS NOT NULL GROUP BY state, route`,
  );
  const readings = new Map<string, Reading>();
  // Every state and route is reported, zero included, so that a panel shows 0 rather than nothing.
  for (const state of ["queued", "routed", "deferred"]) {
    for (const route of ["local", "remote", "none"]) {
      readings.set(`${state}/${route}`, { value: 0, attributes: { state, route } });
    }
  }
  for (const r of rows) readings.get(`${r.state}/${r.route ?? "none"}`)!.value = Number(r.n);
  return [...readings.values()];
}

/**
 * Tails the delivery event log (`delivery_events`, ordered by its serial id) from the
 * moment the process starts, and counts the failures it sees. Reading by id range uses
 * the primary key, so a scrape costs the new events only.
 */
class FailureLog {
  private readonly tally = new FailureTally();
  private cursor = 0;
  private reading: Promise<Reading[]> | undefined;

  constructor(private readonly pool: Pool) {}

  async start(): Promise<void> {
    const { rows } = await this.pool.query<{ max: string | null }>("SELECT max(id) AS max FROM delivery_events");
    this.cursor = Number(rows[0]!.max ?? 0);
  }

  read(): Promise<Reading[]> {
    // Concurrent scrapes share one read so that no event is counted twice.
    return (this.reading ??= this.advance().finally(() => (this.reading = undefined)));
  }

  private async advance(): Promise<Reading[]> {
    const { rows: top } = await this.pool.query<{ max: string | null }>("SELECT max(id) AS max FROM delivery_events");
    const upTo = Number(top[0]!.max ?? 0);
    if (upTo > this.cursor) {
      const { rows } = await this.pool.query<{ event: string; detail: string | null; route: string | null; recipient: string }>(
        `SELECT e.event, e.detail, d.route, d.recipient
           FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
          WHERE e.id > $1 AND e.id <= $2 AND e.event IN ('deferred', 'bounced', 'expired')`,
        [this.cursor, upTo],
      );
      this.tally.add(rows);
      this.cursor = upTo;
    }
    return this.tally.readings();
  }
}

interface QueueState {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

/**
 * Asks RabbitMQ for queue depth and consumers (AMQP queue.declare passive, i.e.
 * amqplib's checkQueue) on a connection of its own, so that a probe's failure never
 * disturbs the service's channels. A missing queue closes only the probe's channel.
 */
class QueueProbe {
  private conn: Promise<ChannelModel> | undefined;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  private connection(): Promise<ChannelModel> {
    if (!this.conn) {
      const opening = amqp.connect(this.url, { noDelay: true, clientProperties: { connection_name: `correo metrics ${process.pid}` } });
      this.conn = opening;
      opening.then(
        (c) => {
          c.on("error", (err: Error) => this.log.debug({ err: err.message }, "metrics connection error"));
          c.on("close", () => {
            if (this.conn === opening) this.conn = undefined;
          });
        },
        () => {
          if (this.conn === opening) this.conn = undefined;
        },
      );
    }
    return this.conn;
  }

  private last: { at: number; queues: string; states: Promise<QueueState[]> } | undefined;

  /** Depth and consumers are read once per scrape: a second ask within a second gets the same answer. */
  check(queues: string[]): Promise<QueueState[]> {
    const key = queues.join(" ");
    const now = Date.now();
    if (this.last && this.last.queues === key && now - this.last.at < 1000) return this.last.states;
    const states = this.read(queues);
    this.last = { at: now, queues: key, states };
    states.catch(() => (this.last = undefined));
    return states;
  }

  private async read(queues: string[]): Promise<QueueState[]> {
    const conn = await this.connection();
    const states: QueueState[] = [];
    for (const queue of queues) {
      const ch = await conn.createChannel();
      ch.on("error", () => undefined);
      try {
        const ok = await ch.checkQueue(queue);
        states.push({ queue, messageCount: ok.messageCount, consumerCount: ok.consumerCount });
      } catch {
        /* not declared yet: nothing to report for it */
      } finally {
        await ch.close().catch(() => undefined);
      }
    }
    return states;
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await (await conn?.catch(() => undefined))?.close().catch(() => undefined);
  }
}
