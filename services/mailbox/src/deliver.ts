import type { Pool } from "@correo/db";
import { JUNK_MAILBOX, type DeliveryLocal } from "@correo/contracts";
import { appendToMailbox, createMailbox, describeMessage, messageFingerprint, type AppendInput, type AppendOutcome } from "@correo/mailstore";
import { transition, type Clock, type Outbox } from "@correo/spool";
import { atZero, counter, deliveryLatency, metricNames, type Logger } from "@correo/telemetry";

export interface MailboxDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** How long an over-quota delivery waits before it is tried again (routing's re-drive picks it up). */
  quotaRetryMs?: number;
  /**
   * Duplicate suppression (the RFC 1047 window, issue 10 item 5): a message the account got
   * within this many milliseconds (same Message-ID, same fingerprint) is not stored again.
   * null: off, every copy is stored. Default 24 h (MAILBOX_DUPLICATE_WINDOW).
   */
  duplicateWindowMs?: number | null;
}

export const DEFAULT_QUOTA_RETRY_MS = 15 * 60_000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 24 * 3_600_000;

const completed = () => counter(metricNames.deliveriesCompleted, "Deliveries that reached a final state, by outcome");

/** This module's counters at 0 for the outcomes it records (see atZero). */
export function localDeliveryMetricsAtZero(): void {
  atZero(completed(), [{ outcome: "delivered", route: "local" }, { outcome: "bounced", route: "local" }]);
}

interface Spooled {
  state: string | null;
  created_at: Date;
  size: number;
  header_message_id: string | null;
  content: Buffer | null;
  enabled: boolean | null;
}

/**
 * Stores one local delivery. Two statements in the usual case: one read (the delivery's
 * state, the message, its blob and the account), then, after the MIME structure is parsed,
 * the append of packages/mailstore, which stores the message, writes its mailbox.changed
 * event and marks the delivery delivered in one statement (one commit). A redelivered
 * event finds the delivery final, or its id already stored, and changes nothing.
 *
 * A disabled account bounces the delivery (5.2.1); an account over its quota defers it
 * (4.2.2, RFC 3463): it stays `routed` with a next attempt time, and routing's re-drive
 * routes it again then. A message the account already got within the duplicate window
 * (a client re-sending after a lost 250) ends `delivered` too, without a second copy:
 * the recipient has the message, which is what the sender asked for, and its timeline
 * says which delivery stored it.
 */
export async function deliverLocal(deps: MailboxDeps, event: DeliveryLocal): Promise<void> {
  const now = deps.clock.now();
  const { rows } = await deps.pool.query<Spooled>({
    name: "mailbox-deliver-read",
    text: `SELECT d.state, m.created_at, m.size, m.header_message_id, b.content, a.enabled
       FROM messages m
       LEFT JOIN deliveries d ON d.id = $2
       LEFT JOIN blobs b ON b.id = $3
       LEFT JOIN accounts a ON a.id = $4
      WHERE m.id = $1`,
    values: [event.messageId, event.deliveryId, event.blobId, event.accountId],
  });
  const spooled = rows[0];
  if (!spooled) throw new Error(`message ${event.messageId} is not in the spool`);
  if (spooled.state === "delivered" || spooled.state === "bounced" || spooled.state === "expired") {
    deps.log.info({ deliveryId: event.deliveryId, state: spooled.state }, "delivery already final; redelivered event ignored");
    return;
  }
  if (spooled.enabled === false) {
    const response = `550 5.2.1 <${event.recipient}>: mailbox disabled`;
    if (await transition(deps.pool, event.deliveryId, { state: "bounced", event: "bounced", at: now, response, countAttempt: true })) {
      deps.log.info({ deliveryId: event.deliveryId, recipient: event.recipient, response }, "delivery bounced: account disabled");
      completed().add(1, { outcome: "bounced", route: "local" });
    }
    return;
  }
  const raw = spooled.content;
  if (!raw) throw new Error(`blob ${event.blobId} is not in the spool`);
  // Parsed before the append: the folder's row is locked for the UID allocation alone.
  const described = describeMessage(raw);
  const windowMs = deps.duplicateWindowMs === undefined ? DEFAULT_DUPLICATE_WINDOW_MS : deps.duplicateWindowMs;
  const duplicateOf =
    windowMs !== null && spooled.header_message_id
      ? { headerMessageId: spooled.header_message_id, digest: messageFingerprint(raw), since: new Date(now.getTime() - windowMs) }
      : undefined;
  const input: AppendInput = {
    accountId: event.accountId,
    mailbox: event.mailbox,
    blobId: event.blobId,
    size: spooled.size,
    described,
    internalDate: now,
    delivery: { deliveryId: event.deliveryId, duplicateOf },
  };
  let outcome = await appendToMailbox(deps.pool, deps.outbox, input);
  if (outcome.kind === "nonexistent" && event.mailbox === JUNK_MAILBOX) {
    // Quarantined mail (issue 14) for an account without a Junk folder (deleted, or made
    // before accounts had one): create it as RFC 6154 \Junk; "exists" means a concurrent
    // delivery just did.
    await createMailbox(deps.pool, event.accountId, JUNK_MAILBOX, "\\Junk");
    outcome = await appendToMailbox(deps.pool, deps.outbox, input);
  }
  await settle(deps, event, outcome, now, spooled.created_at);
}

async function settle(deps: MailboxDeps, event: DeliveryLocal, outcome: AppendOutcome, now: Date, acceptedAt: Date): Promise<void> {
  const delivered = () => {
    completed().add(1, { outcome: "delivered", route: "local" });
    deliveryLatency().record((now.getTime() - acceptedAt.getTime()) / 1000, { route: "local" });
  };
  switch (outcome.kind) {
    case "stored":
      deps.log.info(
        { messageId: event.messageId, deliveryId: event.deliveryId, recipient: event.recipient, mailbox: event.mailbox, uid: outcome.uid },
        "delivered to mailbox",
      );
      delivered();
      // The outbox row is committed with the message: ack now, the event follows in the background.
      if (outcome.pending) deps.outbox.announce([outcome.pending]);
      return;
    case "already-stored": {
      // Stored by an earlier attempt (or a concurrent copy of this event): the append marked it
      // delivered in the same statement, so this changes nothing unless that row predates it.
      const response = `stored in ${event.mailbox} as UID ${outcome.uid}`;
      await transition(deps.pool, event.deliveryId, { state: "delivered", event: "delivered", at: now, response, countAttempt: true });
      deps.log.info({ deliveryId: event.deliveryId }, "delivery already stored; redelivered event ignored");
      return;
    }
    case "duplicate": {
      const where = outcome.uid === null ? "no longer stored" : `stored in ${outcome.mailbox} as UID ${outcome.uid}`;
      const response = `duplicate of delivery ${outcome.deliveryId} of the same message (same Message-ID and content) at ${outcome.storedAt.toISOString()}, ${where}; not stored again`;
      if (await transition(deps.pool, event.deliveryId, { state: "delivered", event: "delivered", at: now, response, countAttempt: true })) {
        deps.log.info({ deliveryId: event.deliveryId, recipient: event.recipient, firstDeliveryId: outcome.deliveryId }, "duplicate delivery not stored");
        delivered();
      }
      return;
    }
    case "over-quota": {
      const response = `452 4.2.2 <${event.recipient}>: mailbox full (${outcome.usedBytes} of ${outcome.limitBytes} bytes used)`;
      const moved = await transition(deps.pool, event.deliveryId, {
        state: "routed",
        event: "deferred",
        at: now,
        nextAttemptAt: new Date(now.getTime() + (deps.quotaRetryMs ?? DEFAULT_QUOTA_RETRY_MS)),
        response,
        countAttempt: true,
      });
      if (moved) deps.log.info({ deliveryId: event.deliveryId, recipient: event.recipient, response }, "delivery deferred: over quota");
      return;
    }
    case "nonexistent":
      throw new MailboxMissingError(event.accountId, event.mailbox);
  }
}

export class MailboxMissingError extends Error {
  constructor(accountId: number, mailbox: string) {
    super(`account ${accountId} has no mailbox ${mailbox}`);
    this.name = "MailboxMissingError";
  }
}

/** Forgets fingerprints older than the window (they can no longer match); bounded per call. */
export async function pruneFingerprints(pool: Pool, windowMs: number, now: Date, batch = 10_000): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM mailbox_fingerprints WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM mailbox_fingerprints WHERE stored_at < $1 LIMIT $2))`,
    [new Date(now.getTime() - windowMs), batch],
  );
  return rowCount ?? 0;
}
