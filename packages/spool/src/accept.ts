import { randomUUID } from "node:crypto";
import type { Pool, Queryable } from "@correo/db";
import type { MessageSubmitted } from "@correo/contracts";
import { activeTraceparent } from "@correo/telemetry";
import { blobIdOf } from "./blobs.js";
import type { Clock } from "./clock.js";
import type { Outbox, PendingEvent } from "./outbox.js";

export interface Submission {
  /** The message's one id, when the caller already named it (e.g. in its Received: line); else made here. */
  messageId?: string;
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
  /** The HTTP API's tags and metadata, for filtering GET /v1/messages. */
  tags?: string[];
  metadata?: Record<string, string>;
  /**
   * The MX's authentication verdict (issue 14): one line for the "accepted" events of the
   * timeline, and whether routing files the message in Junk (messages.quarantine).
   */
  inboundAuth?: { summary: string; quarantine: boolean };
  /**
   * The sending domain (issue 15): the API key's domain (HTTP), the authenticated
   * sender's domain (SMTP submission). Its suppression list is consulted here, and a
   * hard bounce or complaint about this message feeds it. Unset, or not hosted: no list.
   */
  sendingDomain?: string;
  /** Sent with an API key in test mode: routing records it delivered and never sends it. */
  test?: boolean;
}

export interface Accepted {
  messageId: string;
  blobId: string;
  deliveries: { deliveryId: string; recipient: string }[];
  /**
   * The deliveries created `suppressed` (final, no attempt, no DSN) because their address
   * is on the sending domain's suppression list; every other one is `queued`.
   */
  suppressed: string[];
}

export interface AcceptOptions {
  clock: Clock;
  /** How long routing has before the re-drive sweeper publishes the message again. */
  redriveAfterMs: number;
}

/** What `acceptInTransaction` wrote; the caller hands `pending` to `outbox.announce` after commit. */
export interface AcceptedInTransaction {
  messageId: string;
  blobId: string;
  deliveries: { deliveryId: string; recipient: string }[];
  /**
   * The deliveries created `suppressed` (final, no attempt, no DSN) because their address
   * is on the sending domain's suppression list; every other one is `queued`.
   */
  suppressed: string[];
  pending: PendingEvent;
}

/**
 * DESIGN's first invariant: the raw message, its envelope, one delivery per recipient
 * and the message.submitted event (outbox) are committed in one transaction. Only
 * after that may the caller say 250/202, and it need not wait for RabbitMQ: the outbox
 * publishes the event in the background. Any failure throws, and the rollback leaves
 * nothing behind.
 */
export async function acceptMessage(pool: Pool, outbox: Outbox, sub: Submission, opts: AcceptOptions): Promise<Accepted> {
  // One statement is one transaction: no BEGIN/COMMIT round trips around it.
  const { messageId, blobId, deliveries, suppressed, pending } = await acceptInTransaction(pool, outbox, sub, opts);
  outbox.announce([pending]);
  return { messageId, blobId, deliveries, suppressed };
}

/**
 * The writes of `acceptMessage` inside the caller's transaction, so that a new message
 * can be accepted together with other state changes (a DSN with the "DSN sent" mark of
 * the deliveries it reports on). The caller commits, then `outbox.announce([pending])`.
 * All of it is one statement (blob, message, deliveries, their "accepted" events and
 * the outbox row as data-modifying CTEs), so it is atomic even on a bare pool; the
 * foreign keys between them are checked at its end.
 *
 * Suppression (issue 15) is in the same statement: a recipient on the sending domain's
 * list gets its delivery in the final state 'suppressed' (no next attempt, dsn_state
 * 'none': the 202/250 already says so) and a 'suppressed' event after its 'accepted' one.
 * The lookup is one primary-key probe per recipient, nothing without a sending domain.
 */
export async function acceptInTransaction(db: Queryable, outbox: Outbox, sub: Submission, opts: AcceptOptions): Promise<AcceptedInTransaction> {
  const messageId = sub.messageId ?? randomUUID();
  const now = opts.clock.now();
  const redriveAt = new Date(now.getTime() + opts.redriveAfterMs);
  const recipients = [...new Set(sub.recipients)];
  const deliveries = recipients.map((recipient) => ({ deliveryId: randomUUID(), recipient }));
  const blobId = blobIdOf(sub.raw);
  const params = deliveries.map((d) => sub.recipientParams?.[d.recipient]);
  const event: MessageSubmitted = {
    type: "message.submitted",
    version: 1,
    messageId,
    blobId,
    envelopeFrom: sub.envelopeFrom,
    deliveries,
    submittedAt: now.toISOString(),
  };
  const draft = outbox.draft(event);
  // A named statement: each connection parses and plans this text once, not per message.
  const { rows } = await db.query<{ id: number; suppressed: string[] }>({
    name: "spool.accept",
    text: `WITH sender AS (
       SELECT id, name FROM domains WHERE name = $26
     ), blob AS (
       INSERT INTO blobs (id, size, content) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING
     ), message AS (
       INSERT INTO messages (id, blob_id, envelope_from, header_message_id, subject, size, source, api_key_id,
                             account_id, dsn_ret, dsn_envid, created_at, traceparent, tags, metadata, sending_domain_id, test, quarantine)
       VALUES ($4, $1, $5, $6, $7, $2, $8, $9, $10, $11, $12, $13, $14, $15, $16, (SELECT id FROM sender), $27, $28)
     ), wanted AS (
       SELECT d.id, d.recipient, d.notify, d.orcpt, s.reason, s.created_at AS listed_at
         FROM unnest($18::uuid[], $19::text[], $20::text[], $21::text[]) AS d(id, recipient, notify, orcpt)
         LEFT JOIN LATERAL (SELECT x.reason, x.created_at FROM suppressions x JOIN sender ON x.domain_id = sender.id
                             WHERE x.address = lower(d.recipient)) s ON true
     ), delivery AS (
       INSERT INTO deliveries (id, message_id, recipient, state, next_attempt_at, created_at, updated_at,
                               dsn_notify, original_recipient, dsn_state)
       SELECT w.id, $4, w.recipient, CASE WHEN w.reason IS NULL THEN 'queued' ELSE 'suppressed' END,
              CASE WHEN w.reason IS NULL THEN $17::timestamptz END, $13, $13,
              CASE WHEN w.notify = '' THEN NULL ELSE string_to_array(w.notify, ',') END, w.orcpt,
              CASE WHEN w.reason IS NULL THEN 'pending' ELSE 'none' END
         FROM wanted w
       RETURNING id
     ), accepted AS (
       INSERT INTO delivery_events (delivery_id, at, event, detail)
       SELECT id, $13, 'accepted', $22 FROM delivery
       UNION ALL
       SELECT w.id, $13, 'suppressed',
              'not sent: on the suppression list of ' || (SELECT name FROM sender) || ' (' || w.reason || ' since '
                || to_char(w.listed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
         FROM wanted w WHERE w.reason IS NOT NULL
     )
     INSERT INTO outbox (routing_key, payload, headers) VALUES ($23, $24, $25)
     RETURNING id, (SELECT coalesce(array_agg(w.id::text), '{}') FROM wanted w WHERE w.reason IS NOT NULL) AS suppressed`,
    values: [
      blobId,
      sub.raw.length,
      sub.raw,
      messageId,
      sub.envelopeFrom,
      sub.headerMessageId ?? null,
      sub.subject ?? null,
      sub.source,
      sub.apiKeyId ?? null,
      sub.accountId ?? null,
      sub.dsn?.ret ?? null,
      sub.dsn?.envid ?? null,
      now,
      activeTraceparent() ?? null,
      sub.tags ?? [],
      JSON.stringify(sub.metadata ?? {}),
      redriveAt,
      deliveries.map((d) => d.deliveryId),
      deliveries.map((d) => d.recipient),
      params.map((p) => (p?.notify ?? []).join(",")),
      params.map((p) => p?.orcpt ?? null),
      sub.inboundAuth ? `accepted via ${sub.source}; ${sub.inboundAuth.summary}` : `accepted via ${sub.source}`,
      draft.routingKey,
      draft.payload,
      JSON.stringify(draft.headers),
      sub.sendingDomain?.toLowerCase() ?? null,
      sub.test ?? false,
      sub.inboundAuth?.quarantine ?? false,
    ],
  });
  return { messageId, blobId, deliveries, suppressed: rows[0]!.suppressed, pending: outbox.pending(rows[0]!.id, draft) };
}
