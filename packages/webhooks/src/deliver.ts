import { randomUUID } from "node:crypto";
import type { Pool, Queryable } from "@correo/db";
import type { DueDelivery } from "./dispatch.js";
import { enqueue } from "./dispatch.js";
import { signingSecrets } from "./endpoints.js";
import type { WebhookEvent } from "./events.js";
import { postEvent, type PostResult } from "./post.js";
import { endpointVerdict, isSuccess, nextAttemptAt, RETRY_DELAYS_MS } from "./retry.js";

export interface WebhookLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DelivererOptions {
  pool: Pool;
  now: () => Date;
  /** Hands due deliveries to the broker (the webhooks work queue). */
  publish: (due: DueDelivery[]) => Promise<void>;
  log: WebhookLog;
  timeoutMs: number;
  /** POSTs under way to one endpoint from this copy; more wait their turn. */
  concurrencyPerEndpoint: number;
  /** How long a delivery may wait for a slot of its endpoint (default 2 s). */
  maxSlotWaitMs?: number;
  /** Failed attempts in a row, within 24 h, that disable an endpoint. */
  maxFailures: number;
  redriveAfterMs: number;
  retryDelaysMs?: readonly number[];
  post?: typeof postEvent;
  /** Told of every attempt and every endpoint disabled (the shell's metrics). */
  onAttempt?: (ok: boolean, durationMs: number) => void;
  onDisabled?: () => void;
}

interface Outcome {
  id: string;
  endpointId: string;
  at: Date;
  status: number | null;
  durationMs: number;
  error: string | null;
  excerpt: string | null;
  ok: boolean;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: Date | null;
}

interface Claimed {
  endpoint_id: string;
  domain_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_until: Date | null;
  enabled: boolean;
  event_id: string;
  type: string;
  /** The stored event as PostgreSQL prints its jsonb: sent as it comes, not parsed and re-serialised. */
  payload: string;
}

/** How long a delivery waits for one of its endpoint's slots before it goes back to PostgreSQL… */
const MAX_SLOT_WAIT_MS = 2000;
/** …and how soon it is tried again then. */
const BUSY_ENDPOINT_RETRY_MS = 2000;
/** How long a recorded outcome waits for others to share its statement. */
const OUTCOME_LINGER_MS = 5;

/**
 * Coalesces the calls made while one batch is in the database into the next batch: one
 * statement (one round trip) for many deliveries, which is what lets one copy POST
 * thousands of events a second while each call still awaits its own row.
 */
class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly max = 500,
    /** How long the first call waits for others to join it (0: the calls of this tick). */
    private readonly lingerMs = 0,
  ) {}
  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }
  private async drain(): Promise<void> {
    this.running = true;
    // Let the calls of this tick (or of the next few milliseconds) join the first batch.
    await new Promise((r) => (this.lingerMs > 0 ? setTimeout(r, this.lingerMs) : setImmediate(r)));
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.max);
      try {
        const out = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]!));
      } catch (err) {
        batch.forEach((b) => b.reject(err));
      }
    }
    this.running = false;
  }
}

/**
 * A counting semaphore per endpoint: a slow endpoint holds its own slots, nobody else's.
 * A delivery that gets no slot within `maxWaitMs` (its endpoint is slow, not merely
 * busy) is told no, and goes back to PostgreSQL for a moment instead of holding the
 * worker's prefetch, and with it every other endpoint's work.
 */
class EndpointSlots {
  private readonly busy = new Map<string, { n: number; waiting: (() => void)[] }>();
  constructor(
    private readonly max: number,
    private readonly maxWaitMs: number,
  ) {}
  async take(key: string): Promise<(() => void) | undefined> {
    let s = this.busy.get(key);
    if (!s) this.busy.set(key, (s = { n: 0, waiting: [] }));
    if (s.n >= this.max) {
      const got = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          s!.waiting.splice(s!.waiting.indexOf(wake), 1);
          resolve(false);
        }, this.maxWaitMs);
        s!.waiting.push(wake);
      });
      if (!got) return undefined;
    } else s.n++;
    return () => {
      const next = s!.waiting.shift();
      if (next) next();
      else if (--s!.n === 0) this.busy.delete(key);
    };
  }
}

/**
 * The webhook worker (runs in relay-queue): claims a due delivery, POSTs it signed,
 * records the attempt and either finishes it, schedules the next attempt, or gives up
 * and disables the endpoint. Idempotent: a broker message for an attempt already made
 * (or being made by another copy, under its lease) changes nothing.
 */
export class WebhookDeliverer {
  private readonly slots: EndpointSlots;
  private readonly post: typeof postEvent;
  constructor(private readonly o: DelivererOptions) {
    this.slots = new EndpointSlots(o.concurrencyPerEndpoint, o.maxSlotWaitMs ?? MAX_SLOT_WAIT_MS);
    this.post = o.post ?? postEvent;
  }

  async deliver(due: DueDelivery): Promise<"sent" | "failed" | "skipped" | "postponed"> {
    const c = await this.claims.push(due);
    if (!c) return "skipped";
    if (!c.enabled) {
      await this.o.pool.query(
        `UPDATE webhook_deliveries SET state = 'failed', next_attempt_at = NULL, leased_until = NULL, last_error = 'endpoint disabled', updated_at = $2 WHERE id = $1`,
        [due.id, this.o.now()],
      );
      return "skipped";
    }
    const release = await this.slots.take(c.endpoint_id);
    if (!release) {
      // Its endpoint is busy with this copy's other POSTs: back to the table, due shortly.
      await this.o.pool.query("UPDATE webhook_deliveries SET leased_until = NULL, next_attempt_at = $2 WHERE id = $1 AND state = 'pending'", [
        due.id,
        new Date(this.o.now().getTime() + BUSY_ENDPOINT_RETRY_MS),
      ]);
      return "postponed";
    }
    let result: PostResult;
    try {
      result = await this.post(
        { url: c.url, secrets: signingSecrets(c, this.o.now()), eventId: c.event_id, eventType: c.type, body: c.payload },
        { timeoutMs: this.o.timeoutMs, now: this.o.now },
      );
    } finally {
      release();
    }
    return this.record(due, c, result);
  }

  /** Leases due deliveries (their attempt still the one the message names), many in one statement. */
  private readonly claims = new Batcher<DueDelivery, Claimed | undefined>(async (dues) => {
    const now = this.o.now();
    const lease = new Date(now.getTime() + this.o.timeoutMs + 30_000);
    // Rows locked in id order, as every statement that locks several does: no deadlock.
    const { rows } = await this.o.pool.query<Claimed & { id: string }>({
      name: "webhooks.claim",
      text: `WITH locked AS (SELECT id FROM webhook_deliveries WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE)
       UPDATE webhook_deliveries w SET leased_until = $3
         FROM unnest($1::bigint[], $2::int[]) AS due (id, attempt), locked, webhook_endpoints p, webhook_events ev
        WHERE w.id = due.id AND locked.id = w.id AND w.state = 'pending' AND w.attempts = due.attempt
          AND (w.leased_until IS NULL OR w.leased_until <= $4) AND p.id = w.endpoint_id AND ev.id = w.event_id
        RETURNING w.id::text, w.endpoint_id, p.domain_id::text, p.url, p.secret, p.previous_secret, p.previous_until, p.enabled,
                  ev.id AS event_id, ev.type, ev.payload::text AS payload`,
      values: [dues.map((d) => d.id), dues.map((d) => d.attempt), lease, now],
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    // The same delivery twice in one batch (a duplicate message): only the first gets it.
    return dues.map((d) => {
      const r = byId.get(d.id);
      byId.delete(d.id);
      return r;
    });
  });

  /**
   * Attempts and their deliveries' new state, many in one statement. The answers to one
   * broker message's POSTs come back over a few milliseconds; waiting OUTCOME_LINGER_MS
   * for them makes one statement (one commit, one WAL flush) of what were several.
   */
  private readonly outcomes = new Batcher<Outcome, void>(async (list) => {
    await this.o.pool.query({
      name: "webhooks.record-outcomes",
      text: `WITH o AS (
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::boolean[],
                              $9::text[], $10::int[], $11::timestamptz[])
           AS o (id, endpoint_id, at, status, duration_ms, error, excerpt, ok, state, attempts, next_attempt_at)
       ), locked AS (
         SELECT id FROM webhook_deliveries WHERE id IN (SELECT id FROM o) ORDER BY id FOR UPDATE
       ), attempt AS (
         INSERT INTO webhook_attempts (delivery_id, endpoint_id, at, status, duration_ms, error, response_excerpt, ok)
         SELECT id, endpoint_id, at, status, duration_ms, error, excerpt, ok FROM o
       )
       UPDATE webhook_deliveries w SET state = o.state, attempts = o.attempts, next_attempt_at = o.next_attempt_at, leased_until = NULL,
              last_status = o.status, last_error = o.error, updated_at = o.at
         FROM o JOIN locked USING (id) WHERE w.id = o.id`,
      values: [
        list.map((x) => x.id), list.map((x) => x.endpointId), list.map((x) => x.at), list.map((x) => x.status), list.map((x) => x.durationMs),
        list.map((x) => x.error), list.map((x) => x.excerpt), list.map((x) => x.ok), list.map((x) => x.state), list.map((x) => x.attempts),
        list.map((x) => x.nextAttemptAt),
      ],
    });
    return list.map(() => undefined);
  }, 500, OUTCOME_LINGER_MS);

  private async record(due: DueDelivery, c: Claimed, r: PostResult): Promise<"sent" | "failed"> {
    const at = this.o.now();
    const ok = isSuccess(r.status);
    this.o.onAttempt?.(ok, r.durationMs);
    const attempts = due.attempt + 1;
    const next = ok ? undefined : nextAttemptAt(attempts, at, this.o.retryDelaysMs ?? RETRY_DELAYS_MS);
    const state = ok ? "delivered" : next ? "pending" : "failed";
    await this.outcomes.push({
      id: due.id, endpointId: c.endpoint_id, at, status: r.status, durationMs: r.durationMs, error: r.error, excerpt: r.responseExcerpt,
      ok, state, attempts, nextAttemptAt: next ?? null,
    });
    if (ok) return "sent";
    const { rows } = await this.o.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_attempts
        WHERE endpoint_id = $1 AND NOT ok AND at > $2
          AND id > coalesce((SELECT max(id) FROM webhook_attempts WHERE endpoint_id = $1 AND ok), 0)`,
      [c.endpoint_id, new Date(at.getTime() - 24 * 3_600_000)],
    );
    const verdict = endpointVerdict({ exhausted: state === "failed", failuresInARow24h: rows[0]!.n, maxFailures: this.o.maxFailures });
    if (verdict.disable && (await disableEndpoint(this.o, c.endpoint_id, verdict.reason))) this.o.onDisabled?.();
    return "failed";
  }
}

/**
 * Disables an endpoint that keeps failing: its pending deliveries end 'failed' (a replay
 * or re-enabling brings them back by hand), a warning is logged, and an
 * `endpoint.disabled` event goes to the domain's other endpoints that subscribe to it.
 */
export async function disableEndpoint(o: Pick<DelivererOptions, "pool" | "now" | "publish" | "log" | "redriveAfterMs">, endpointId: string, reason: string): Promise<boolean> {
  const now = o.now();
  const client = await o.pool.connect();
  let due: DueDelivery[] = [];
  let moved = false;
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ domain_id: string; url: string; domain: string }>(
      `UPDATE webhook_endpoints p SET enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3
         FROM domains dm WHERE p.id = $1 AND p.enabled AND dm.id = p.domain_id
       RETURNING p.domain_id::text, p.url, dm.name AS domain`,
      [endpointId, reason, now],
    );
    if (rows[0]) {
      moved = true;
      await client.query(
        `WITH locked AS (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND state = 'pending' ORDER BY id FOR UPDATE)
         UPDATE webhook_deliveries w SET state = 'failed', next_attempt_at = NULL, leased_until = NULL,
                last_error = coalesce(last_error || '; ', '') || 'endpoint disabled', updated_at = $2
           FROM locked WHERE w.id = locked.id`,
        [endpointId, now],
      );
      const event: WebhookEvent = {
        id: `evt_${randomUUID().replaceAll("-", "")}`,
        type: "endpoint.disabled",
        created_at: now.toISOString(),
        data: { endpoint_id: endpointId, url: rows[0].url, domain: rows[0].domain, reason },
      };
      const { rows: others } = await client.query<{ id: string }>(
        "SELECT id FROM webhook_endpoints WHERE domain_id = $1 AND enabled AND 'endpoint.disabled' = ANY (event_types)",
        [rows[0].domain_id],
      );
      due = await enqueue(
        client,
        [{ id: event.id, domain: rows[0].domain_id, type: event.type, payload: JSON.stringify(event) }],
        others.map((e) => ({ event: event.id, endpoint: e.id })),
        now,
        o.redriveAfterMs,
      );
      o.log.warn({ endpointId, url: rows[0].url, domain: rows[0].domain, reason }, "webhook endpoint disabled");
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  if (due.length) await o.publish(due).catch(() => undefined); // the sweeper re-drives it
  return moved;
}

/**
 * The sweeper (DESIGN: nothing stuck out of sight): pending deliveries past their next
 * attempt time and not leased by an attempt under way are handed to the broker again;
 * their time moves `redriveAfterMs` on, so each is re-driven once per period. Retries
 * come this way too: a failed attempt sets the next attempt's time.
 */
export async function redriveDue(db: Queryable, now: Date, redriveAfterMs: number, limit = 2000): Promise<DueDelivery[]> {
  const { rows } = await db.query<{ id: string; attempts: number }>(
    `UPDATE webhook_deliveries w SET next_attempt_at = $2
       FROM (SELECT id FROM webhook_deliveries
              WHERE state = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)
              ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
      WHERE w.id = due.id
      RETURNING w.id::text, w.attempts`,
    [now, new Date(now.getTime() + redriveAfterMs), limit],
  );
  return rows.map((r) => ({ id: r.id, attempt: r.attempts }));
}
