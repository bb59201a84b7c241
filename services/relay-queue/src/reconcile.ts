import type { Pool } from "@correo/db";
import type { Logger } from "@correo/telemetry";
import type { RetrySchedule } from "./schedule.js";

/**
 * DESIGN: "the Redis retry schedule can be wiped at any time and is rebuilt from
 * PostgreSQL". Every deferred remote delivery (not held) is added to the set when missing,
 * scored by its next_attempt_at, or moved earlier when PostgreSQL says it is due sooner
 * (ZADD LT: a "retry now" from queue management that could not reach Redis).
 * Returns how many entries were missing.
 */
export async function reconcileSchedule(deps: { pool: Pool; schedule: RetrySchedule; log: Logger }, batch = 1000): Promise<number> {
  let added = 0;
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    // Keyset pagination by id: stable while rows change state under us.
    const { rows } = await deps.pool.query<{ id: string; next_attempt_at: Date }>(
      `SELECT id, next_attempt_at FROM deliveries
        WHERE state = 'deferred' AND route IN ('remote', 'inbound') AND held_at IS NULL AND id > $1
        ORDER BY id LIMIT $2`,
      [after, batch],
    );
    if (rows.length === 0) break;
    added += await deps.schedule.addMissing(rows.map((r) => ({ deliveryId: r.id, dueAt: r.next_attempt_at })));
    after = rows[rows.length - 1]!.id;
    if (rows.length < batch) break;
  }
  if (added > 0) deps.log.info({ added }, "retry schedule: re-added deliveries missing from Redis");
  return added;
}

/**
 * The quick pass, every few seconds: deferred deliveries made due by a recent change in
 * PostgreSQL alone (queue management's "retry now" or "release" from the admin API,
 * which has no Redis) go into the schedule at once rather than at the next full pass.
 */
export async function reconcileRecent(deps: { pool: Pool; schedule: RetrySchedule; now: Date }, windowMs: number): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string; next_attempt_at: Date }>(
    `SELECT id, next_attempt_at FROM deliveries
      WHERE state = 'deferred' AND route IN ('remote', 'inbound') AND held_at IS NULL
        AND next_attempt_at <= $1 AND updated_at >= $2
      LIMIT 1000`,
    [deps.now, new Date(deps.now.getTime() - windowMs)],
  );
  return deps.schedule.addMissing(rows.map((r) => ({ deliveryId: r.id, dueAt: r.next_attempt_at })));
}
