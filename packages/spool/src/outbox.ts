import { parseEvent, type AnyEvent } from "@correo/contracts";
import type { Broker } from "@correo/broker";
import { withTransaction, type Pool, type Queryable } from "@correo/db";
import { atZero, counter, injectTraceHeaders, metricNames, type Logger } from "@correo/telemetry";

export interface PendingEvent {
  id: number;
  routingKey: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** An outbox row before it is written: `routing_key`, `payload` and `headers` (as JSON). */
export interface OutboxDraft {
  routingKey: string;
  payload: string;
  headers: Record<string, string>;
}

export interface OutboxOptions {
  /** Events published together and then deleted with one statement. */
  batchSize?: number;
  /** Events held in memory for the publisher; beyond that they wait in the table for the sweeper. */
  maxQueued?: number;
  /** How long `stop` lets the publisher finish what it holds. */
  stopGraceMs?: number;
}

const republished = () => counter(metricNames.outboxRepublished, "Events republished by the outbox sweeper");
const leftForSweeper = () =>
  counter(metricNames.outboxLeftForSweeper, "Committed events the publisher left in the outbox for the sweeper (broker blocked, away or slow)");

/**
 * Transactional outbox. An event is written in the same transaction as the state it
 * announces; after commit the caller hands it over with `announce`, which returns at
 * once: no answer to a client and no ack of a consumed message waits for RabbitMQ
 * (DESIGN: the answer never waits for the broker). A background publisher sends what
 * it is handed in batches with publisher confirms and deletes each confirmed batch
 * with one statement. While RabbitMQ is away, blocked by a resource alarm or not
 * confirming, events stay in the table, and the sweeper of any process republishes
 * them once it is back, so a committed state change is never left unannounced.
 * Consumers are idempotent, so the rare double publish is harmless.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private sweepGraceMs: number | undefined;
  private readonly queue: PendingEvent[] = [];
  private draining: Promise<void> | undefined;
  /** False after a batch went unconfirmed: until a sweep succeeds, new events go to the sweeper. */
  private healthy = true;
  private stopped = false;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly stopGraceMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly broker: Broker,
    private readonly log: Logger,
    opts: OutboxOptions = {},
  ) {
    atZero(republished());
    atZero(leftForSweeper());
    this.batchSize = opts.batchSize ?? 500;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.stopGraceMs = opts.stopGraceMs ?? 2000;
    // Back from an outage or an alarm: drain the backlog now rather than at the next tick.
    broker.onAvailable(() => {
      this.healthy = true;
      if (this.sweepGraceMs !== undefined && !this.stopped) void this.sweepAll(this.sweepGraceMs);
    });
  }

  /** Records `event` inside the caller's transaction; returns what `announce` needs after commit. */
  async enqueue(db: Queryable, event: AnyEvent): Promise<PendingEvent> {
    const draft = this.draft(event);
    const { rows } = await db.query<{ id: number }>(
      "INSERT INTO outbox (routing_key, payload, headers) VALUES ($1, $2, $3) RETURNING id",
      [draft.routingKey, draft.payload, JSON.stringify(draft.headers)],
    );
    return this.pending(rows[0]!.id, draft);
  }

  /**
   * `event` validated and with the trace context it carries, for a caller that writes the
   * outbox row itself as part of a larger statement; `pending` then makes what `announce` needs.
   */
  draft(event: AnyEvent): OutboxDraft {
    parseEvent(event.type, event);
    return { routingKey: event.type, payload: JSON.stringify(event), headers: injectTraceHeaders() };
  }

  pending(id: number, draft: OutboxDraft): PendingEvent {
    return { id, routingKey: draft.routingKey, body: Buffer.from(draft.payload), headers: draft.headers };
  }

  /**
   * Hands committed events to the background publisher and returns at once; never
   * throws. What cannot be published soon (broker away or blocked, publisher stalled or
   * full) is left in the table for the sweeper.
   */
  announce(events: PendingEvent[]): void {
    if (events.length === 0) return;
    if (this.stopped || !this.healthy || !this.broker.publishable || this.queue.length + events.length > this.maxQueued) {
      leftForSweeper().add(events.length);
      return;
    }
    this.queue.push(...events);
    this.kick();
  }

  private kick(): void {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      // Handed over while the last DELETE ran.
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Publishes what is queued, a batch at a time: all of a batch in flight at once, then one DELETE. */
  private async drain(): Promise<void> {
    let forgetting: Promise<void> = Promise.resolve();
    for (;;) {
      if (this.queue.length === 0) {
        await forgetting;
        if (this.queue.length === 0) return;
      }
      if (!this.healthy || !this.broker.publishable) {
        leftForSweeper().add(this.queue.length);
        this.queue.length = 0;
        continue;
      }
      const batch = this.queue.splice(0, this.batchSize);
      const results = await Promise.allSettled(batch.map((e) => this.broker.publishRaw(e.routingKey, e.body, e.headers)));
      const done = batch.filter((_, i) => results[i]!.status === "fulfilled").map((e) => e.id);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) {
        this.healthy = false;
        leftForSweeper().add(batch.length - done.length);
        this.log.warn({ err: (failed.reason as Error).message, count: batch.length - done.length }, "events left in outbox for the sweeper");
      }
      // The previous batch's DELETE ran while this batch waited for its confirms.
      await forgetting;
      forgetting = this.forget(done);
    }
  }

  /**
   * Deletes confirmed events; one that stays (PostgreSQL away) is published again by the
   * sweeper, which is harmless. Committed without waiting for the WAL flush
   * (synchronous_commit off for this one statement): a delete lost in a crash only means
   * an idempotent republish, and the flush was one of the few fsyncs each message paid.
   * One simple-protocol query (an implicit transaction, so SET LOCAL holds for it); the
   * ids are integers read back from bigserial, written as an array literal.
   */
  private async forget(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    if (!ids.every(Number.isSafeInteger)) return void this.log.warn({ ids }, "outbox ids that are not integers; the sweeper will publish them again");
    await this.pool
      .query(`SET LOCAL synchronous_commit = off; DELETE FROM outbox WHERE id = ANY('{${ids.join(",")}}'::bigint[])`)
      .then(() => undefined)
      .catch((err: Error) => this.log.warn({ err: err.message, count: ids.length }, "confirmed events not deleted from the outbox; the sweeper will publish them again"));
  }

  /**
   * Republishes one batch of events older than `graceMs` that nobody published (crash,
   * broker outage or alarm), all in flight at once, and deletes the confirmed ones.
   * Younger events belong to the publisher of the process that wrote them.
   */
  async sweep(graceMs: number, batch = this.batchSize): Promise<number> {
    if (this.sweeping) return 0;
    if (!this.broker.publishable) return 0;
    const run = this.sweepBatch(graceMs, batch);
    this.sweeping = run;
    try {
      return await run;
    } finally {
      this.sweeping = undefined;
    }
  }

  private async sweepBatch(graceMs: number, batch: number): Promise<number> {
    try {
      const swept = await withTransaction(this.pool, async (db) => {
        const { rows } = await db.query<{ id: number; routing_key: string; payload: unknown; headers: Record<string, string> }>(
          `SELECT id, routing_key, payload, headers FROM outbox
            WHERE created_at < now() - make_interval(secs => $1)
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [graceMs / 1000, batch],
        );
        const results = await Promise.allSettled(
          rows.map((row) => this.broker.publishRaw(row.routing_key, Buffer.from(JSON.stringify(row.payload)), row.headers)),
        );
        const done = rows.filter((_, i) => results[i]!.status === "fulfilled").map((r) => r.id);
        if (done.length > 0) await db.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [done]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason as Error;
        return done.length;
      });
      if (swept > 0) {
        republished().add(swept);
        this.log.info({ count: swept }, "outbox sweeper republished events");
      }
      // Every event it found was confirmed: the broker takes events again.
      this.healthy = true;
      return swept;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "outbox sweep failed; will retry");
      return 0;
    }
  }

  /** Sweeps batch after batch while they come back full, so a backlog drains at the broker's pace. */
  async sweepAll(graceMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.sweep(graceMs);
      total += n;
      if (n < this.batchSize || this.stopped) return total;
    }
  }

  /** Starts the periodic sweep; events older than `intervalMs` are the sweeper's. */
  startSweeper(intervalMs: number): void {
    this.sweepGraceMs = intervalMs;
    this.timer = setInterval(() => void this.sweepAll(intervalMs), intervalMs);
    this.timer.unref();
  }

  /** Stops the sweeper and lets the publisher finish what it holds, for a short while; the rest stays in the table. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const busy = [this.draining, this.sweeping].filter((p) => p !== undefined);
    if (busy.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(busy),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stopGraceMs))),
    ]);
    clearTimeout(timer);
  }
}
