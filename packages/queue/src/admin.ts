import { withTransaction, type Pool, type Queryable } from "@correo/db";
import type { RetrySchedule } from "./schedule.js";

/**
 * Queue management (Postfix's mailq / postqueue -f / postsuper -h -H -d, as data): the
 * relay's queue is every remote delivery not yet final. PostgreSQL is changed first and
 * is the truth; the Redis schedule, when the caller has it, is updated after the commit
 * so that a retry happens now rather than at the reconciler's next pass.
 */

export interface QueueFilter {
  /** Recipient domain, e.g. example.net. */
  domain?: string;
  /** Only deliveries accepted at least this long ago. */
  olderThanMs?: number;
  /** Substring of the last reply, case-insensitive (e.g. "4.4.1", "refused", "greylist"). */
  reason?: string;
  /** Deferred and waiting (default), held by an administrator, or both. */
  held?: "no" | "only" | "any";
  limit?: number;
}

export interface QueuedDelivery {
  id: string;
  messageId: string;
  recipient: string;
  domain: string;
  envelopeFrom: string;
  subject: string | null;
  state: string;
  held: boolean;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date | null;
  lastResponse: string | null;
}

export interface DeliveryDetail extends QueuedDelivery {
  route: string | null;
  remoteMta: string | null;
  dsnState: string;
  events: { at: Date; event: string; detail: string | null }[];
}

/** What an action applies to: one delivery, or every queued delivery of a domain. */
export type Target = { deliveryId: string } | { domain: string };

interface Row {
  id: string;
  message_id: string;
  recipient: string;
  domain: string;
  envelope_from: string;
  subject: string | null;
  state: string;
  held_at: Date | null;
  attempts: number;
  created_at: Date;
  next_attempt_at: Date | null;
  last_response: string | null;
  route: string | null;
  remote_mta: string | null;
  dsn_state: string;
}

const DOMAIN_OF = "lower(substring(d.recipient from '@([^@]*)$'))";
const SELECT = `SELECT d.*, ${DOMAIN_OF} AS domain, m.envelope_from, m.subject
                  FROM deliveries d JOIN messages m ON m.id = d.message_id`;
// Inbound routes' deliveries (issue 15) are the relay's too: same schedule, same management.
const QUEUED = "d.route IN ('remote', 'inbound') AND d.state IN ('routed', 'deferred')";

const toQueued = (r: Row): QueuedDelivery => ({
  id: r.id,
  messageId: r.message_id,
  recipient: r.recipient,
  domain: r.domain,
  envelopeFrom: r.envelope_from,
  subject: r.subject,
  state: r.state,
  held: r.held_at !== null,
  attempts: r.attempts,
  createdAt: r.created_at,
  nextAttemptAt: r.next_attempt_at,
  lastResponse: r.last_response,
});

export async function listQueue(db: Queryable, filter: QueueFilter, now: Date): Promise<QueuedDelivery[]> {
  const where = [QUEUED];
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (filter.domain) where.push(`${DOMAIN_OF} = ${p(filter.domain.toLowerCase())}`);
  if (filter.olderThanMs !== undefined) where.push(`d.created_at <= ${p(new Date(now.getTime() - filter.olderThanMs))}`);
  if (filter.reason) where.push(`d.last_response ILIKE ${p(`%${filter.reason.replace(/[\\%_]/g, (c) => "\\" + c)}%`)}`);
  const held = filter.held ?? "no";
  if (held === "no") where.push("d.held_at IS NULL");
  if (held === "only") where.push("d.held_at IS NOT NULL");
  const { rows } = await db.query<Row>(
    `${SELECT} WHERE ${where.join(" AND ")} ORDER BY d.created_at, d.recipient LIMIT ${p(filter.limit ?? 1000)}`,
    params,
  );
  return rows.map(toQueued);
}

/** One delivery with its timeline: every attempt's reply, holds and releases. */
export async function showDelivery(db: Queryable, deliveryId: string): Promise<DeliveryDetail | undefined> {
  if (!isUuid(deliveryId)) return undefined;
  const { rows } = await db.query<Row>(`${SELECT} WHERE d.id = $1`, [deliveryId]);
  const r = rows[0];
  if (!r) return undefined;
  const events = await db.query<{ at: Date; event: string; detail: string | null }>(
    "SELECT at, event, detail FROM delivery_events WHERE delivery_id = $1 ORDER BY id",
    [deliveryId],
  );
  return { ...toQueued(r), route: r.route, remoteMta: r.remote_mta, dsnState: r.dsn_state, events: events.rows };
}

function targetSql(t: Target, params: unknown[]): string {
  if ("deliveryId" in t) {
    params.push(isUuid(t.deliveryId) ? t.deliveryId : "00000000-0000-0000-0000-000000000000");
    return `d.id = $${params.length}`;
  }
  params.push(t.domain.toLowerCase());
  return `${DOMAIN_OF} = $${params.length}`;
}

/** Makes deferred deliveries due now (held ones stay held); un-parks their destinations. */
export async function retryNow(pool: Pool, target: Target, now: Date, schedule?: RetrySchedule): Promise<string[]> {
  const ids = await withTransaction(pool, async (db) => {
    const params: unknown[] = [now];
    const { rows } = await db.query<{ id: string; domain: string }>(
      `UPDATE deliveries d SET next_attempt_at = $1, updated_at = $1
        WHERE ${QUEUED} AND d.state = 'deferred' AND d.held_at IS NULL AND ${targetSql(target, params)}
        RETURNING d.id, ${DOMAIN_OF} AS domain`,
      params,
    );
    await note(db, rows.map((r) => r.id), now, "deferred", "retry requested by the administrator");
    await db.query("UPDATE relay_destinations SET parked_until = NULL, failures = 0 WHERE domain = ANY($1::text[])", [
      [...new Set(rows.map((r) => r.domain))],
    ]);
    return rows.map((r) => r.id);
  });
  await schedule?.add(ids.map((deliveryId) => ({ deliveryId, dueAt: now })));
  return ids;
}

/** Holds queued deliveries: they stay deferred and are not attempted until released. */
export async function hold(pool: Pool, target: Target, now: Date, schedule?: RetrySchedule): Promise<string[]> {
  const ids = await withTransaction(pool, async (db) => {
    const params: unknown[] = [now];
    // A routed delivery (never tried) becomes deferred: held mail is deferred mail.
    const { rows } = await db.query<{ id: string }>(
      `UPDATE deliveries d SET held_at = $1, state = 'deferred', updated_at = $1
        WHERE ${QUEUED} AND d.held_at IS NULL AND ${targetSql(target, params)} RETURNING d.id`,
      params,
    );
    await note(db, rows.map((r) => r.id), now, "deferred", "held by the administrator");
    return rows.map((r) => r.id);
  });
  await schedule?.remove(ids);
  return ids;
}

/** Releases held deliveries; they are due at once. */
export async function release(pool: Pool, target: Target, now: Date, schedule?: RetrySchedule): Promise<string[]> {
  const ids = await withTransaction(pool, async (db) => {
    const params: unknown[] = [now];
    const { rows } = await db.query<{ id: string }>(
      `UPDATE deliveries d SET held_at = NULL, next_attempt_at = $1, updated_at = $1
        WHERE ${QUEUED} AND d.held_at IS NOT NULL AND ${targetSql(target, params)} RETURNING d.id`,
      params,
    );
    await note(db, rows.map((r) => r.id), now, "deferred", "released by the administrator");
    return rows.map((r) => r.id);
  });
  await schedule?.add(ids.map((deliveryId) => ({ deliveryId, dueAt: now })));
  return ids;
}

/**
 * Deletes queued deliveries: they end `bounced`, and the sender gets a DSN only when
 * `bounce` is set (Postfix's `postsuper -d` is silent; a bounce tells the sender why).
 */
export async function deleteQueued(pool: Pool, target: Target, opts: { bounce: boolean }, now: Date, schedule?: RetrySchedule): Promise<string[]> {
  const reply = "5.0.0 deleted from the queue by the administrator";
  const ids = await withTransaction(pool, async (db) => {
    const params: unknown[] = [now, reply, opts.bounce ? "pending" : "none"];
    const { rows } = await db.query<{ id: string }>(
      `UPDATE deliveries d SET state = 'bounced', next_attempt_at = NULL, held_at = NULL, last_response = $2,
                               dsn_state = $3, updated_at = $1
        WHERE ${QUEUED} AND ${targetSql(target, params)} RETURNING d.id`,
      params,
    );
    await note(db, rows.map((r) => r.id), now, "bounced", opts.bounce ? reply : `${reply} (no bounce)`);
    return rows.map((r) => r.id);
  });
  await schedule?.remove(ids);
  return ids;
}

async function note(db: Queryable, ids: string[], at: Date, event: string, detail: string): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    "INSERT INTO delivery_events (delivery_id, at, event, detail) SELECT id, $2, $3, $4 FROM unnest($1::uuid[]) AS id",
    [ids, at, event, detail],
  );
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
