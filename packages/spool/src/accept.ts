import { randomUUID } from "node:crypto";
import { withTransaction, type Pool } from "@correo/db";
import type { MessageSubmitted } from "@correo/contracts";
import { putBlob } from "./blobs.js";
import type { Clock } from "./clock.js";
import type { Outbox } from "./outbox.js";

export interface Submission {
  raw: Buffer;
  /** Reverse-path; '' is the null sender <>. */
  envelopeFrom: string;
  recipients: string[];
  source: "http" | "smtp" | "dsn";
  apiKeyId?: number;
  headerMessageId?: string;
  subject?: string;
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

/**
 * DESIGN's first invariant: the raw message, its envelope, one delivery per recipient
 * and the message.submitted event (outbox) are committed in one transaction. Only
 * after that may the caller say 250/202. Any failure throws, and the rollback leaves
 * nothing behind.
 */
export async function acceptMessage(pool: Pool, outbox: Outbox, sub: Submission, opts: AcceptOptions): Promise<Accepted> {
  const messageId = randomUUID();
  const now = opts.clock.now();
  const redriveAt = new Date(now.getTime() + opts.redriveAfterMs);
  const recipients = [...new Set(sub.recipients)];
  const deliveries = recipients.map((recipient) => ({ deliveryId: randomUUID(), recipient }));
  const { blobId, pending } = await withTransaction(pool, async (db) => {
    const blobId = await putBlob(db, sub.raw);
    await db.query(
      `INSERT INTO messages (id, blob_id, envelope_from, header_message_id, subject, size, source, api_key_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [messageId, blobId, sub.envelopeFrom, sub.headerMessageId ?? null, sub.subject ?? null, sub.raw.length, sub.source, sub.apiKeyId ?? null, now],
    );
    await db.query(
      `INSERT INTO deliveries (id, message_id, recipient, state, next_attempt_at, created_at, updated_at)
       SELECT d.id, $1, d.recipient, 'queued', $2, $3, $3
         FROM unnest($4::uuid[], $5::text[]) AS d(id, recipient)`,
      [messageId, redriveAt, now, deliveries.map((d) => d.deliveryId), deliveries.map((d) => d.recipient)],
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
    return { blobId, pending: await outbox.enqueue(db, event) };
  });
  const announced = await outbox.publish([pending]);
  return { messageId, blobId, deliveries, announced };
}
