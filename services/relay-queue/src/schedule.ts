import type { RetrySchedule } from "@correo/queue";
import type { Broker } from "@correo/broker";
import type { DeliveryRemote } from "@correo/contracts";
import type { Pool } from "@correo/db";
import { parseAddress } from "@correo/directory";
import { loadDeliveries, type Clock } from "@correo/spool";
import { context, linkFromHeaders, SpanKind, trace, tracer, type Logger } from "@correo/telemetry";

// The sorted set itself lives in @correo/queue, shared with queue management.
export { RetrySchedule, type ScheduleEntry } from "@correo/queue";

/** After a failed publish (broker down), when the claim is tried again. */
const PUBLISH_RETRY_MS = 10_000;

export interface RedriveDeps {
  pool: Pool;
  broker: Broker;
  schedule: RetrySchedule;
  clock: Clock;
  log: Logger;
}

/**
 * Claims the deliveries due now and publishes delivery.remote again, one event per
 * (message, domain, envelope sender) so that recipients of one destination share one SMTP
 * transaction, and a forwarded delivery keeps its own (SRS) MAIL FROM.
 * What cannot be published goes back into the set; the delivery row is not touched, so
 * a crash between claim and publish is repaired by the reconciler.
 */
export async function publishDue(deps: RedriveDeps, limit = 500): Promise<number> {
  const now = deps.clock.now();
  const ids = await deps.schedule.claimDue(now, limit);
  if (ids.length === 0) return 0;
  const rows = (await loadDeliveries(deps.pool, ids)).filter((d) => d.state === "deferred" && d.route === "remote");
  // Held deliveries stay out of the schedule until released (they are not put back).
  const held = new Set(
    (await deps.pool.query<{ id: string }>("SELECT id FROM deliveries WHERE id = ANY($1::uuid[]) AND held_at IS NOT NULL", [rows.map((d) => d.id)])).rows.map((r) => r.id),
  );
  // Not due after all (the row moved on while Redis had an old score): put it back on time.
  const early = rows.filter((d) => !held.has(d.id) && d.nextAttemptAt && d.nextAttemptAt.getTime() > now.getTime());
  await deps.schedule.add(early.map((d) => ({ deliveryId: d.id, dueAt: d.nextAttemptAt! })));
  const due = rows.filter((d) => !early.includes(d) && !held.has(d.id));
  if (due.length === 0) return 0;

  const { rows: messages } = await deps.pool.query<{ id: string; blob_id: string; envelope_from: string; traceparent: string | null }>(
    "SELECT id, blob_id, envelope_from, traceparent FROM messages WHERE id = ANY($1::uuid[])",
    [[...new Set(due.map((d) => d.messageId))]],
  );
  const byId = new Map(messages.map((m) => [m.id, m]));
  const groups = new Map<string, { event: DeliveryRemote; ids: string[]; traceparent: string | null }>();
  for (const d of due) {
    const m = byId.get(d.messageId);
    const domain = parseAddress(d.recipient)?.domain;
    if (!m || !domain) continue;
    const envelopeFrom = d.envelopeFrom ?? m.envelope_from;
    const key = `${d.messageId} ${domain} ${envelopeFrom}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        event: { type: "delivery.remote", version: 1, messageId: m.id, blobId: m.blob_id, envelopeFrom, domain, deliveries: [] },
        ids: [],
        traceparent: m.traceparent,
      };
      groups.set(key, g);
    }
    g.event.deliveries.push({ deliveryId: d.id, recipient: d.recipient });
    g.ids.push(d.id);
  }
  let published = 0;
  for (const g of groups.values()) {
    // A retry is a new trace (it starts from a timer, maybe days later), linked to the
    // message's own trace so that an operator can walk from one to the other.
    const span = tracer().startSpan("delivery.remote retry", {
      kind: SpanKind.PRODUCER,
      links: linkFromHeaders(g.traceparent ? { traceparent: g.traceparent } : undefined),
      attributes: { "correo.message.id": g.event.messageId, "correo.recipient.domain": g.event.domain },
    });
    try {
      await context.with(trace.setSpan(context.active(), span), () => deps.broker.publish(g.event));
      published += g.ids.length;
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, messageId: g.event.messageId }, "retry publish failed; rescheduled");
      await deps.schedule.add(g.ids.map((deliveryId) => ({ deliveryId, dueAt: new Date(now.getTime() + PUBLISH_RETRY_MS) }))).catch(() => undefined);
    } finally {
      span.end();
    }
  }
  if (published > 0) deps.log.info({ count: published }, "published due retries");
  return published;
}
