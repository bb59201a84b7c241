import { withTransaction, type Pool } from "@correo/db";
import type { DeliveryLocal } from "@correo/contracts";
import { transition, type Clock, type Outbox, type PendingEvent } from "@correo/spool";
import { counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { appendDelivery } from "./store.js";

export interface MailboxDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
}

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");

/**
 * Stores one local delivery: the message lands in the mailbox, the delivery becomes
 * `delivered` and a mailbox.changed event is written, all in one transaction. A
 * redelivered event finds the delivery id already stored and changes nothing.
 */
export async function deliverLocal(deps: MailboxDeps, event: DeliveryLocal): Promise<void> {
  const now = deps.clock.now();
  const result = await withTransaction(deps.pool, async (db) => {
    const { rows } = await db.query<{ size: number; created_at: Date }>(
      "SELECT size, created_at FROM messages WHERE id = $1",
      [event.messageId],
    );
    const message = rows[0];
    if (!message) throw new Error(`message ${event.messageId} is not in the spool`);
    const copy = await appendDelivery(db, {
      deliveryId: event.deliveryId,
      accountId: event.accountId,
      mailbox: event.mailbox,
      blobId: event.blobId,
      size: message.size,
      internalDate: now,
    });
    if (!copy) return undefined;
    await transition(db, event.deliveryId, {
      state: "delivered",
      event: "delivered",
      at: now,
      response: `stored in ${event.mailbox} as UID ${copy.uid}`,
      countAttempt: true,
    });
    const pending: PendingEvent = await deps.outbox.enqueue(db, {
      type: "mailbox.changed",
      version: 1,
      accountId: event.accountId,
      mailboxId: copy.mailboxId,
      uid: copy.uid,
      modseq: copy.modseq,
      change: "exists",
    });
    return { pending, acceptedAt: message.created_at, uid: copy.uid };
  });
  if (!result) {
    deps.log.info({ deliveryId: event.deliveryId }, "delivery already stored; redelivered event ignored");
    return;
  }
  deps.log.info(
    { messageId: event.messageId, deliveryId: event.deliveryId, recipient: event.recipient, mailbox: event.mailbox, uid: result.uid },
    "delivered to mailbox",
  );
  completed().add(1, { outcome: "delivered", route: "local" });
  deliveryLatency().record((now.getTime() - result.acceptedAt.getTime()) / 1000, { route: "local" });
  await deps.outbox.publish([result.pending]);
}
