import { randomUUID } from "node:crypto";
import { withTransaction, type Pool, type Queryable } from "@correo/db";
import type { MessageSubmitted } from "@correo/contracts";
import { activeTraceparent } from "@correo/telemetry";
import { putBlob } from "./blobs.js";
import type { Clock } from "./clock.js";
import type { Outbox, PendingEvent } from "./outbox.js";

export interface Submission {
  raw: Buffer;
  /** Reverse-path; '' is the null sender <>. */
  envelopeFrom: string;
  recipients: string[];
  source: "http" | "smtp" | "dsn";
  apiKeyId?: number;
  /** The account that authenticated the submission (SMTP AUTH), if any. */
  accountId?: number;
  headerMessageId?: string;
  subject?: string;
  /** RFC 3461 §4.3/§4.4: MAIL FROM's RET and ENVID. */
  dsn?: { ret?: "FULL" | "HDRS"; envid?: string };
  /** RFC 3461 §4.1/§4.2: RCPT TO's NOTIFY and ORCPT, by recipient address as given in `recipients`. */
  recipientParams?: Record<string, { notify?: ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[]; orcpt?: string }>;
}

export interface Accepted {
  messageId: string;
  blobId: string;
  deliveries: { deliveryId: string; recipient: string }[];
  /** False when the event waits in the outbox for the sweeper (still durable). */
  announced: boolean;
}

export interface AcceptOptions {
  clock: Clock;
  /** How long routing has before the re-drive sweeper publishes the message again. */
  redriveAfterMs: number;
}

/** What `acceptInTransaction` wrote; `pending` is published by the caller after commit. */
export interface AcceptedInTransaction {
  messageId: string;
  blobId: string;
  deliveries: { deliveryId: string; recipient: string }[];
  pending: PendingEvent;
}

/**
 * DESIGN's first invariant: the raw message, its envelope, one delivery per recipient
 * and the message.submitted event (outbox) are committed in one transaction. Only
 * after that may the caller say 250/202. Any failure throws, and the rollback leaves
 * nothing behind.
 */
export async function acceptMessage(pool: Pool, outbox: Outbox, sub: Submission, opts: AcceptOptions): Promise<Accepted> {
  const { messageId, blobId, deliveries, pending } = await withTransaction(pool, (db) => acceptInTransaction(db, outbox, sub, opts));
  const announced = await outbox.publish([pending]);
  return { messageId, blobId, deliveries, announced };
}

/**
 * The writes of `acceptMessage` inside the caller's transaction, so that a new message
 * can be accepted together with other state changes (a DSN with the "DSN sent" mark of
 * the deliveries it reports on). The caller commits, then `outbox.publish([pending])`.
 */
export async function acceptInTransaction(db: Queryable, outbox: Outbox, sub: Submission, opts: AcceptOptions): Promise<AcceptedInTransaction> {
  const messageId = randomUUID();
  const now = opts.clock.now();
  const redriveAt = new Date(now.getTime() + opts.redriveAfterMs);
  const recipients = [...new Set(sub.recipients)];
  const deliveries = recipients.map((recipient) => ({ deliveryId: randomUUID(), recipient }));
  const blobId = await putBlob(db, sub.raw);
  await db.query(
    `INSERT INTO messages (id, blob_id, envelope_from, header_message_id, subject, size, source, api_key_id,
                           account_id, dsn_ret, dsn_envid, created_at, traceparent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      messageId,
      blobId,
      sub.envelopeFrom,
      sub.headerMessageId ?? null,
      sub.subject ?? null,
      sub.raw.length,
      sub.source,
      sub.apiKeyId ?? null,
      sub.accountId ?? null,
      sub.dsn?.ret ?? null,
      sub.dsn?.envid ?? null,
      now,
      activeTraceparent() ?? null,
    ],
  );
  const params = deliveries.map((d) => sub.recipientParams?.[d.recipient]);
  await db.query(
    `INSERT INTO deliveries (id, message_id, recipient, state, next_attempt_at, created_at, updated_at,
                             dsn_notify, original_recipient)
     SELECT d.id, $1, d.recipient, 'queued', $2, $3, $3,
            CASE WHEN d.notify = '' THEN NULL ELSE string_to_array(d.notify, ',') END, d.orcpt
       FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[]) AS d(id, recipient, notify, orcpt)`,
    [
      messageId,
      redriveAt,
      now,
      deliveries.map((d) => d.deliveryId),
      deliveries.map((d) => d.recipient),
      params.map((p) => (p?.notify ?? []).join(",")),
      params.map((p) => p?.orcpt ?? null),
    ],
  );
  await db.query(
    `INSERT INTO delivery_events (delivery_id, at, event, detail)
     SELECT id, $2, 'accepted', $3 FROM unnest($1::uuid[]) AS id`,
    [deliveries.map((d) => d.deliveryId), now, `accepted via ${sub.source}`],
  );
  const event: MessageSubmitted = {
    type: "message.submitted",
    version: 1,
    messageId,
    blobId,
    envelopeFrom: sub.envelopeFrom,
    deliveries,
    submittedAt: now.toISOString(),
  };
  return { messageId, blobId, deliveries, pending: await outbox.enqueue(db, event) };
}
