import { randomUUID } from "node:crypto";
import { withTransaction, type Pool, type PoolClient } from "@correo/db";
import { dsnStatusOf, dsnSubject, noticeFor, renderDsn, type DsnRecipient, type Notice, type NotifyKeyword } from "@correo/dsn";
import { acceptInTransaction, getBlob, type Clock, type Outbox, type PendingEvent } from "@correo/spool";
import { atZero, counter, metricNames, type Logger } from "@correo/telemetry";

/**
 * DSNs are driven by PostgreSQL state, not by whichever service made the final decision
 * (routing bounces unknown users, the mailbox delivers, the relay bounces and expires):
 * any relay-queue copy finds deliveries owed a notice, renders one RFC 3464 report per
 * message and accepts it as a new message from <> IN THE SAME TRANSACTION as marking
 * those deliveries notified — so a report is sent once, and never lost. It then travels
 * the normal path: routing, a local mailbox or the relay.
 */
export interface DsnDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  log: Logger;
  /** CORREO_HOSTNAME: Reporting-MTA and the MAILER-DAEMON address. */
  reportingMta: string;
  delayWarningMs: number;
  maxLifetimeMs: number;
  redriveAfterMs: number;
}

interface Row {
  id: string;
  message_id: string;
  recipient: string;
  state: "queued" | "routed" | "deferred" | "delivered" | "bounced" | "expired";
  dsn_notify: NotifyKeyword[] | null;
  original_recipient: string | null;
  last_response: string | null;
  remote_mta: string | null;
  updated_at: Date;
  created_at: Date;
  envelope_from: string;
}

interface MessageRow {
  id: string;
  blob_id: string;
  envelope_from: string;
  dsn_ret: "FULL" | "HDRS" | null;
  dsn_envid: string | null;
  created_at: Date;
}

const sent = () => counter(metricNames.dsnSent, "DSNs accepted for delivery, by kind (failure, delay, success)");

/** DSNs sent, at 0 for every kind (see atZero). */
export function dsnMetricsAtZero(): void {
  const kinds: Exclude<Notice, "none">[] = ["failure", "delay", "success"];
  atZero(sent(), kinds.map((kind) => ({ kind })));
}

const ACTION: Record<Exclude<Notice, "none">, DsnRecipient["action"]> = { failure: "failed", delay: "delayed", success: "delivered" };

/**
 * Drains what is owed now, in batches (each its own transaction, so that a long backlog
 * never holds locks for long); returns how many DSN messages were accepted.
 */
export async function sweepDsns(deps: DsnDeps, batch = 500, maxBatches = 50): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const { examined, count } = await sweepBatch(deps, batch);
    accepted += count;
    if (examined < batch) break;
  }
  return accepted;
}

async function sweepBatch(deps: DsnDeps, batch: number): Promise<{ examined: number; count: number }> {
  const now = deps.clock.now();
  const { pending, count, examined } = await withTransaction(deps.pool, async (db) => {
    // SKIP LOCKED: copies sweeping at once take disjoint rows.
    const final = await db.query<Row>(
      `SELECT d.id, d.message_id, d.recipient, d.state, d.dsn_notify, d.original_recipient, d.last_response,
              d.remote_mta, d.updated_at, d.created_at, m.envelope_from
         FROM deliveries d JOIN messages m ON m.id = d.message_id
        WHERE d.dsn_state = 'pending' AND d.state IN ('delivered', 'bounced', 'expired')
        ORDER BY d.updated_at LIMIT $1
        FOR UPDATE OF d SKIP LOCKED`,
      [batch],
    );
    const delayed = await db.query<Row>(
      `SELECT d.id, d.message_id, d.recipient, d.state, d.dsn_notify, d.original_recipient, d.last_response,
              d.remote_mta, d.updated_at, d.created_at, m.envelope_from
         FROM deliveries d JOIN messages m ON m.id = d.message_id
        WHERE d.state = 'deferred' AND d.dsn_delay_sent_at IS NULL AND 'DELAY' = ANY (d.dsn_notify)
          AND d.created_at <= $1
        ORDER BY d.created_at LIMIT $2
        FOR UPDATE OF d SKIP LOCKED`,
      [new Date(now.getTime() - deps.delayWarningMs), batch],
    );
    const owed = new Map<string, { row: Row; notice: Exclude<Notice, "none"> }[]>();
    const none: string[] = [];
    const delayIds: string[] = [];
    for (const row of [...final.rows, ...delayed.rows]) {
      const notice = noticeFor(
        { state: row.state, notify: row.dsn_notify, envelopeFrom: row.envelope_from, ageMs: now.getTime() - row.created_at.getTime() },
        deps.delayWarningMs,
      );
      if (row.state === "deferred") {
        delayIds.push(row.id); // a deferred row is looked at once: it gets its delay notice or none
      } else if (notice === "none") {
        none.push(row.id);
        continue;
      }
      if (notice === "none") continue;
      owed.set(row.message_id, [...(owed.get(row.message_id) ?? []), { row, notice }]);
    }
    const out: PendingEvent[] = [];
    const notified: string[] = [];
    for (const [messageId, items] of owed) {
      const accepted = await acceptReport(db, deps, messageId, items, now);
      if (!accepted) {
        // The message is gone (deleted): nothing to report on.
        none.push(...items.filter((i) => i.row.state !== "deferred").map((i) => i.row.id));
        continue;
      }
      out.push(accepted);
      notified.push(...items.filter((i) => i.row.state !== "deferred").map((i) => i.row.id));
      for (const i of items) sent().add(1, { kind: i.notice });
    }
    if (notified.length) await db.query("UPDATE deliveries SET dsn_state = 'sent' WHERE id = ANY($1::uuid[])", [notified]);
    if (none.length) await db.query("UPDATE deliveries SET dsn_state = 'none' WHERE id = ANY($1::uuid[])", [none]);
    if (delayIds.length) await db.query("UPDATE deliveries SET dsn_delay_sent_at = $2 WHERE id = ANY($1::uuid[])", [delayIds, now]);
    return { pending: out, count: out.length, examined: Math.max(final.rows.length, delayed.rows.length) };
  });
  if (pending.length > 0) {
    deps.outbox.announce(pending);
    deps.log.info({ count }, "DSNs accepted");
  }
  return { examined, count };
}

async function acceptReport(
  db: PoolClient,
  deps: DsnDeps,
  messageId: string,
  items: { row: Row; notice: Exclude<Notice, "none"> }[],
  now: Date,
): Promise<PendingEvent | undefined> {
  const { rows } = await db.query<MessageRow>(
    "SELECT id, blob_id, envelope_from, dsn_ret, dsn_envid, created_at FROM messages WHERE id = $1",
    [messageId],
  );
  const message = rows[0];
  if (!message || message.envelope_from === "") return undefined;
  const original = await getBlob(db, message.blob_id);
  if (!original) return undefined;
  const lifetimeEnd = new Date(message.created_at.getTime() + deps.maxLifetimeMs);
  const recipients: DsnRecipient[] = items.map(({ row, notice }) => {
    const action = ACTION[notice];
    return {
      finalRecipient: row.recipient,
      originalRecipient: row.original_recipient,
      action,
      ...dsnStatusOf(row.last_response, action),
      remoteMta: row.remote_mta,
      lastAttemptDate: row.state === "deferred" || row.remote_mta ? row.updated_at : null,
      ...(action === "delayed" ? { willRetryUntil: lifetimeEnd } : {}),
    };
  });
  const headerMessageId = `<${randomUUID()}@${deps.reportingMta}>`;
  const raw = renderDsn({
    reportingMta: deps.reportingMta,
    to: message.envelope_from,
    envelopeId: message.dsn_envid,
    arrivalDate: message.created_at,
    original,
    ret: message.dsn_ret,
    recipients,
    date: now,
    messageId: headerMessageId,
    boundary: `correo-dsn-${randomUUID()}`,
  });
  const accepted = await acceptInTransaction(
    db,
    deps.outbox,
    // RFC 3464 §2 / RFC 5321 §4.5.5: a DSN is sent from the null reverse-path.
    { raw, envelopeFrom: "", recipients: [message.envelope_from], source: "dsn", headerMessageId, subject: dsnSubject(recipients) },
    { clock: deps.clock, redriveAfterMs: deps.redriveAfterMs },
  );
  deps.log.info(
    { messageId, dsnMessageId: accepted.messageId, to: message.envelope_from, recipients: recipients.map((r) => `${r.finalRecipient} ${r.action} ${r.status}`) },
    "DSN accepted",
  );
  return accepted.pending;
}
