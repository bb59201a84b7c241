import { parseEvent, type AnyEvent } from "@correo/contracts";
import type { Broker } from "@correo/broker";
import { withTransaction, type Pool, type Queryable } from "@correo/db";
import { counter, injectTraceHeaders, metricNames, type Logger } from "@correo/telemetry";

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

const republished = () => counter(metricNames.outboxRepublished, "Events republished by the outbox sweeper");

/**
 * Transactional outbox. An event is written in the same transaction as the state it
 * announces, published right after commit, and deleted once RabbitMQ confirms it. If
 * the broker is down or the process dies in between, the sweeper republishes it, so a
 * committed state change is never left unannounced. Consumers are idempotent, so the
 * rare double publish is harmless.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly pool: Pool,
    private readonly broker: Broker,
    private readonly log: Logger,
  ) {}

  /** Records `event` inside the caller's transaction; returns what `publish` needs after commit. */
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
   * outbox row itself as part of a larger statement; `pending` then makes what `publish` needs.
   */
  draft(event: AnyEvent): OutboxDraft {
    parseEvent(event.type, event);
    return { routingKey: event.type, payload: JSON.stringify(event), headers: injectTraceHeaders() };
  }

  pending(id: number, draft: OutboxDraft): PendingEvent {
    return { id, routingKey: draft.routingKey, body: Buffer.from(draft.payload), headers: draft.headers };
  }

  /**
   * Publishes committed events and forgets them. Never throws: an event that cannot be
   * published now stays in the outbox for the sweeper.
   */
  async publish(events: PendingEvent[]): Promise<boolean> {
    const done: number[] = [];
    for (const e of events) {
      try {
        await this.broker.publishRaw(e.routingKey, e.body, e.headers);
        done.push(e.id);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, routingKey: e.routingKey }, "event left in outbox for the sweeper");
      }
    }
    if (done.length > 0) {
      await this.pool.query("DELETE FROM outbox WHERE id = ANY($1)", [done]).catch(() => undefined);
    }
    return done.length === events.length;
  }

  /** Republishes events older than `graceMs` that nobody published (crash or broker outage). */
  async sweep(graceMs: number, batch = 200): Promise<number> {
    if (this.sweeping || !this.broker.connected) return 0;
    this.sweeping = true;
    try {
      return await withTransaction(this.pool, async (db) => {
        const { rows } = await db.query<{ id: number; routing_key: string; payload: unknown; headers: Record<string, string> }>(
          `SELECT id, routing_key, payload, headers FROM outbox
            WHERE created_at < now() - make_interval(secs => $1)
            ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [graceMs / 1000, batch],
        );
        for (const row of rows) {
          await this.broker.publishRaw(row.routing_key, Buffer.from(JSON.stringify(row.payload)), row.headers);
        }
        if (rows.length > 0) {
          await db.query("DELETE FROM outbox WHERE id = ANY($1)", [rows.map((r) => r.id)]);
          republished().add(rows.length);
          this.log.info({ count: rows.length }, "outbox sweeper republished events");
        }
        return rows.length;
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "outbox sweep failed; will retry");
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  startSweeper(intervalMs: number): void {
    this.timer = setInterval(() => void this.sweep(intervalMs), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
