import type { Pool } from "@correo/db";
import type { Broker } from "@correo/broker";
import type { MessageSubmitted } from "@correo/contracts";
import { postpone, type Clock } from "@correo/spool";

/** What the re-drive writes to the log (a pino Logger): a warning per failure, a count per pass that re-drove any. */
export interface RedriveLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedriveDeps {
  pool: Pool;
  broker: Broker;
  clock: Clock;
  log: RedriveLog;
}

/**
 * Re-drives every `intervalMs` (REDRIVE_INTERVAL). A pass that fails as a whole — its
 * queries refused, PostgreSQL away — is logged and left to the next pass, which finds
 * the same deliveries still overdue. Returns the function that stops it.
 */
export function startRedrive(deps: RedriveDeps, timing: { intervalMs: number; postponeMs: number }): () => void {
  const timer = setInterval(() => {
    void redriveOverdue(deps, timing.postponeMs).catch((err: Error) =>
      deps.log.warn({ err: err.message, intervalMs: timing.intervalMs }, "re-drive pass failed; the next pass tries again"),
    );
  }, timing.intervalMs);
  return () => clearInterval(timer);
}

/**
 * DESIGN: "Nothing is stuck out of sight." Deliveries routing still owns past their
 * next action time — queued or routed (the broker lost the event, or a consumer died
 * before its outbox was swept), or deferred before a route was chosen (a DNS failure
 * at routing time, retried with back-off) — are routed again by publishing
 * message.submitted once more. Routing and the mailbox are idempotent, so this never
 * duplicates a message.
 */
export async function redriveOverdue(
  deps: RedriveDeps,
  postponeMs: number,
  limit = 500,
): Promise<number> {
  const now = deps.clock.now();
  const { rows: overdue } = await deps.pool.query<{ id: string; message_id: string; recipient: string }>(
    `SELECT id, message_id, recipient FROM deliveries
      WHERE next_attempt_at <= $1
        AND (state IN ('queued', 'routed') OR (state = 'deferred' AND route IS NULL))
      ORDER BY next_attempt_at LIMIT $2`,
    [now, limit],
  );
  if (overdue.length === 0) return 0;
  const byMessage = new Map<string, typeof overdue>();
  for (const d of overdue) byMessage.set(d.message_id, [...(byMessage.get(d.message_id) ?? []), d]);
  const { rows } = await deps.pool.query<{ id: string; blob_id: string; envelope_from: string; created_at: Date }>(
    "SELECT id, blob_id, envelope_from, created_at FROM messages WHERE id = ANY($1::uuid[])",
    [[...byMessage.keys()]],
  );
  let count = 0;
  for (const m of rows) {
    const deliveries = byMessage.get(m.id)!;
    const event: MessageSubmitted = {
      type: "message.submitted",
      version: 1,
      messageId: m.id,
      blobId: m.blob_id,
      envelopeFrom: m.envelope_from,
      deliveries: deliveries.map((d) => ({ deliveryId: d.id, recipient: d.recipient })),
      submittedAt: m.created_at.toISOString(),
    };
    try {
      await deps.broker.publish(event);
      await postpone(deps.pool, deliveries.map((d) => d.id), new Date(now.getTime() + postponeMs));
      count += deliveries.length;
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, messageId: m.id }, "re-drive failed; will retry");
    }
  }
  if (count > 0) deps.log.info({ count }, "re-drove overdue deliveries");
  return count;
}
