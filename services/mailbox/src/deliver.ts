import { withTransaction, type Pool } from "@correo/db";
import type { DeliveryLocal } from "@correo/contracts";
import { getBlob, transition, type Clock, type Outbox, type PendingEvent } from "@correo/spool";
import { counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";
import { appendDelivery, isOverQuota } from "./store.js";

export interface MailboxDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** How long an over-quota delivery waits before it is tried again (routing's re-drive picks it up). */
  quotaRetryMs?: number;
}

export const DEFAULT_QUOTA_RETRY_MS = 15 * 60_000;

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");

type Outcome =
  | { kind: "stored"; pending: PendingEvent; acceptedAt: Date; uid: number }
  | { kind: "duplicate" }
  | { kind: "deferred"; response: string }
  | { kind: "bounced"; response: string };

/**
 * Stores one local delivery: the message lands in the mailbox, the delivery becomes
 * `delivered` and a mailbox.changed event is written, all in one transaction. A
 * redelivered event finds the delivery id already stored and changes nothing.
 * A disabled account bounces the delivery (5.2.1); an account over its quota defers it
 * (4.2.2, RFC 3463): it stays `routed` with a next attempt time, and routing's re-drive
 * routes it again then.
 */
export async function deliverLocal(deps: MailboxDeps, event: DeliveryLocal): Promise<void> {
  const now = deps.clock.now();
  const result = await withTransaction(deps.pool, async (db): Promise<Outcome> => {
    const { rows } = await db.query<{ size: number; created_at: Date }>(
      "SELECT size, created_at FROM messages WHERE id = $1",
      [event.messageId],
    );
    const message = rows[0];
    if (!message) throw new Error(`message ${event.messageId} is not in the spool`);
    const account = await db.query<{ enabled: boolean }>("SELECT enabled FROM accounts WHERE id = $1", [event.accountId]);
    if (account.rows[0] && !account.rows[0].enabled) {
      const response = `550 5.2.1 <${event.recipient}>: mailbox disabled`;
      const moved = await transition(db, event.deliveryId, { state: "bounced", event: "bounced", at: now, response, countAttempt: true });
      return moved ? { kind: "bounced", response } : { kind: "duplicate" };
    }
    const raw = await getBlob(db, event.blobId);
    if (!raw) throw new Error(`blob ${event.blobId} is not in the spool`);
    const copy = await appendDelivery(db, {
      deliveryId: event.deliveryId,
      accountId: event.accountId,
      mailbox: event.mailbox,
      blobId: event.blobId,
      size: message.size,
      internalDate: now,
      raw,
    });
    if (!copy) return { kind: "duplicate" };
    if (isOverQuota(copy)) {
      const response = `452 4.2.2 <${event.recipient}>: mailbox full (${copy.usedBytes} of ${copy.limitBytes} bytes used)`;
      const moved = await transition(db, event.deliveryId, {
        state: "routed",
        event: "deferred",
        at: now,
        nextAttemptAt: new Date(now.getTime() + (deps.quotaRetryMs ?? DEFAULT_QUOTA_RETRY_MS)),
        response,
        countAttempt: true,
      });
      return moved ? { kind: "deferred", response } : { kind: "duplicate" };
    }
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
    return { kind: "stored", pending, acceptedAt: message.created_at, uid: copy.uid };
  });
  switch (result.kind) {
    case "duplicate":
      deps.log.info({ deliveryId: event.deliveryId }, "delivery already stored; redelivered event ignored");
      return;
    case "deferred":
      deps.log.info({ deliveryId: event.deliveryId, recipient: event.recipient, response: result.response }, "delivery deferred: over quota");
      return;
    case "bounced":
      deps.log.info({ deliveryId: event.deliveryId, recipient: event.recipient, response: result.response }, "delivery bounced: account disabled");
      completed().add(1, { outcome: "bounced", route: "local" });
      return;
    case "stored":
      deps.log.info(
        { messageId: event.messageId, deliveryId: event.deliveryId, recipient: event.recipient, mailbox: event.mailbox, uid: result.uid },
        "delivered to mailbox",
      );
      completed().add(1, { outcome: "delivered", route: "local" });
      deliveryLatency().record((now.getTime() - result.acceptedAt.getTime()) / 1000, { route: "local" });
      // The outbox row is committed with the message: ack now, the event follows in the background.
      deps.outbox.announce([result.pending]);
  }
}
