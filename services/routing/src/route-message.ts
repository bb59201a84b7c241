import { withTransaction, type Pool } from "@correo/db";
import type { AnyEvent, MessageSubmitted } from "@correo/contracts";
import { loadDeliveries, transition, type Clock, type Outbox, type PendingEvent } from "@correo/spool";
import { counter, metricNames, type Logger } from "@correo/telemetry";
import { decideRoute, replyText } from "./decide.js";
import { lookupRecipient } from "./lookup.js";

export interface RouterDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  /** How long the next stage has before the re-drive sweeper routes the delivery again. */
  redriveAfterMs: number;
  log: Logger;
}

const routed = () => counter(metricNames.deliveriesRouted, "Routing decisions, by route");

/**
 * Routes every recipient of a submitted message. Idempotent: a delivery already
 * final, or deferred (the relay queue owns it then), is left alone; one still
 * `routed` gets its event again, because the next stage may never have seen it.
 */
export async function routeMessage(deps: RouterDeps, event: MessageSubmitted): Promise<void> {
  const now = deps.clock.now();
  const nextAttemptAt = new Date(now.getTime() + deps.redriveAfterMs);
  const pending = await withTransaction(deps.pool, async (db) => {
    // Lock the rows so that two routing copies handling the same event do not interleave.
    await db.query("SELECT 1 FROM deliveries WHERE id = ANY($1::uuid[]) FOR UPDATE", [
      event.deliveries.map((d) => d.deliveryId),
    ]);
    const deliveries = await loadDeliveries(db, event.deliveries.map((d) => d.deliveryId));
    const events: AnyEvent[] = [];
    const decisions: Record<string, string> = {};
    const remote = new Map<string, { deliveryId: string; recipient: string }[]>();
    for (const d of deliveries) {
      if (d.state !== "queued" && d.state !== "routed") continue;
      const verdict = decideRoute(await lookupRecipient(db, d.recipient));
      switch (verdict.kind) {
        case "local":
          if (d.state === "queued") {
            await transition(db, d.id, {
              state: "routed",
              event: "routed",
              route: "local",
              at: now,
              nextAttemptAt,
              response: `local mailbox ${verdict.mailbox} of account ${verdict.accountId}`,
            });
          }
          events.push({
            type: "delivery.local",
            version: 1,
            messageId: event.messageId,
            deliveryId: d.id,
            blobId: event.blobId,
            recipient: d.recipient,
            accountId: verdict.accountId,
            mailbox: verdict.mailbox,
          });
          break;
        case "remote":
          if (d.state === "queued") {
            await transition(db, d.id, {
              state: "routed",
              event: "routed",
              route: "remote",
              at: now,
              nextAttemptAt,
              response: `remote domain ${verdict.domain}`,
            });
          }
          remote.set(verdict.domain, [...(remote.get(verdict.domain) ?? []), { deliveryId: d.id, recipient: d.recipient }]);
          break;
        case "bounce":
          await transition(db, d.id, { state: "bounced", event: "bounced", at: now, response: replyText(verdict) });
          break;
      }
      routed().add(1, { route: verdict.kind });
      decisions[d.recipient] = verdict.kind === "bounce" ? replyText(verdict) : verdict.kind;
    }
    // Remote recipients of one destination travel together (one SMTP transaction).
    for (const [domain, group] of remote) {
      events.push({
        type: "delivery.remote",
        version: 1,
        messageId: event.messageId,
        blobId: event.blobId,
        envelopeFrom: event.envelopeFrom,
        domain,
        deliveries: group,
      });
    }
    const out: PendingEvent[] = [];
    for (const e of events) out.push(await deps.outbox.enqueue(db, e));
    if (Object.keys(decisions).length > 0) deps.log.info({ messageId: event.messageId, decisions }, "routed");
    return out;
  });
  await deps.outbox.publish(pending);
}
