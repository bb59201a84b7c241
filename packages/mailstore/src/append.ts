/**
 * The one mailbox append (issue 11): local delivery (services/mailbox) and IMAP APPEND /
 * the HTTP API (transfer.ts) both store a message here. It is one statement, so one round
 * trip and one commit, and its cost does not depend on how many messages the folder or the
 * account holds: every step is a lookup by key (no COUNT or SUM over messages).
 *
 * In order, as data-modifying CTEs: the target folder with the account's quota; the
 * duplicate claim (deliveries only, see fingerprint.ts); the UID allocation, which also
 * advances HIGHESTMODSEQ, the folder's used_bytes and message count, and checks the quota against the row
 * it updates; the blob (APPEND only; a delivery's is in the spool); the message row (with
 * its ENVELOPE and BODYSTRUCTURE as response text, migration 029); the
 * mailbox.changed outbox row; and, for a delivery, its final state and timeline event.
 * The folder's row is locked by that UPDATE only until the statement commits, right after
 * the INSERTs; the message is parsed before (the caller passes `described`).
 *
 * Concurrent appends to one folder queue on that row and get strictly increasing UIDs
 * (RFC 3501 §2.3.1.1). Lock order: the claim (a key of mailbox_fingerprints), then the
 * mailbox row, so appends cannot deadlock with each other or with COPY (mailbox rows by id).
 */
import type { Queryable } from "@correo/db";
import type { MailboxChanged } from "@correo/contracts";
import { summaryTexts } from "@correo/imap";
import type { PendingEvent } from "@correo/spool";
import type { MessageDescription } from "./mime-structure.js";
import { normalizeMailboxName } from "./names.js";
import type { ChangeSink } from "./types.js";

export interface AppendInput {
  accountId: number;
  mailbox: string;
  blobId: string;
  /** The raw message when its blob may not exist yet (APPEND); omit when it is in the spool. */
  raw?: Buffer;
  size: number;
  described: MessageDescription;
  flags?: readonly string[];
  internalDate: Date;
  /** Local delivery: stored at most once per delivery id, and marked delivered with the message. */
  delivery?: {
    deliveryId: string;
    /** Duplicate suppression: skip the message when this account already got it since `since`. */
    duplicateOf?: { headerMessageId: string; digest: Buffer; since: Date };
  };
}

export type AppendOutcome =
  | { kind: "stored"; mailboxId: number; uidValidity: number; uid: number; modseq: number; pending: PendingEvent | undefined }
  /** This delivery id is stored already (a redelivered event): nothing was written. */
  | { kind: "already-stored"; mailboxId: number; uid: number }
  /** The account got the same message within the window; nothing was written. */
  | { kind: "duplicate"; deliveryId: string; storedAt: Date; mailbox: string | null; uid: number | null }
  | { kind: "over-quota"; usedBytes: number; limitBytes: number }
  | { kind: "nonexistent" };

interface AppendRow {
  target_id: number | null;
  quota_bytes: number | null;
  used_bytes: number | null;
  stored_mailbox_id: number | null;
  stored_uid: number | null;
  claimed: boolean;
  mailbox_id: number | null;
  uid: number | null;
  modseq: number | null;
  uid_validity: number | null;
  outbox_id: number | null;
}

const APPEND = `
WITH target AS (
  SELECT m.id, a.quota_bytes,
         -- No quota, no sum: the other folders' usage is read only for an account with a limit.
         CASE WHEN a.quota_bytes IS NULL THEN 0
              ELSE (SELECT coalesce(sum(o.used_bytes), 0) FROM mailboxes o WHERE o.account_id = $1 AND o.id <> m.id) END AS other_used,
         m.used_bytes,
         s.mailbox_id AS stored_mailbox_id, s.uid AS stored_uid
    FROM mailboxes m JOIN accounts a ON a.id = m.account_id
    LEFT JOIN mailbox_messages s ON $11::uuid IS NOT NULL AND s.delivery_id = $11::uuid
   WHERE m.account_id = $1 AND m.name = $2
), claim AS (
  INSERT INTO mailbox_fingerprints (account_id, header_message_id, digest, delivery_id, stored_at)
  SELECT $1, $12::text, $13::bytea, $11::uuid, $7 FROM target WHERE $12::text IS NOT NULL AND target.stored_uid IS NULL
  ON CONFLICT (account_id, header_message_id, digest) DO UPDATE
     SET delivery_id = EXCLUDED.delivery_id, stored_at = EXCLUDED.stored_at
   WHERE mailbox_fingerprints.stored_at < $14 OR mailbox_fingerprints.delivery_id = EXCLUDED.delivery_id
      -- Copies of one accepted message (an alias and a +tag of one account) are routing's
      -- decision, not a client's retry: only another message of the spool is a duplicate.
      OR (SELECT message_id FROM deliveries WHERE id = mailbox_fingerprints.delivery_id)
         = (SELECT message_id FROM deliveries WHERE id = EXCLUDED.delivery_id)
  RETURNING 1
), box AS (
  UPDATE mailboxes m
     SET uid_next = m.uid_next + 1, highest_modseq = m.highest_modseq + 1, used_bytes = m.used_bytes + $5,
         message_count = m.message_count + 1
    FROM target t
   WHERE m.id = t.id AND t.stored_uid IS NULL
     -- Checked against the row being updated, so appends queued on this folder see each other.
     AND (t.quota_bytes IS NULL OR t.other_used + m.used_bytes + $5 <= t.quota_bytes)
     AND ($12::text IS NULL OR EXISTS (SELECT 1 FROM claim))
  RETURNING m.id, m.uid_next - 1 AS uid, m.highest_modseq AS modseq, m.uid_validity
), blob AS (
  -- Only once a UID is allocated: a refused APPEND leaves no blob behind. The foreign key
  -- from mailbox_messages is checked at the end of the statement, when this row exists.
  INSERT INTO blobs (id, size, content) SELECT $3, $5, $4::bytea FROM box WHERE $4::bytea IS NOT NULL
  ON CONFLICT (id) DO NOTHING
), msg AS (
  INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, delivery_id, flags, internal_date, size, modseq, envelope, body_structure, sent_date,
                                imap_envelope, imap_body_structure)
  SELECT id, uid, $3, $11::uuid, ARRAY(SELECT DISTINCT unnest($6::text[]) ORDER BY 1), $7, $5, modseq, $8, $9, $10, $17, $18 FROM box
  RETURNING mailbox_id, uid, modseq
), change AS (
  INSERT INTO outbox (routing_key, payload, headers)
  SELECT $15::text,
         jsonb_build_object('type', 'mailbox.changed', 'version', 1, 'accountId', $1::bigint, 'mailboxId', mailbox_id,
                            'uid', uid, 'modseq', modseq, 'change', 'exists'),
         $16::jsonb
    FROM msg WHERE $15::text IS NOT NULL
  RETURNING id
), delivered AS (
  UPDATE deliveries d
     SET state = 'delivered', next_attempt_at = NULL, last_response = 'stored in ' || $2 || ' as UID ' || msg.uid,
         attempts = d.attempts + 1, updated_at = $7
    FROM msg
   WHERE $11::uuid IS NOT NULL AND d.id = $11::uuid AND d.state NOT IN ('delivered', 'bounced', 'expired', 'suppressed')
  RETURNING d.id, d.last_response
), timeline AS (
  INSERT INTO delivery_events (delivery_id, at, event, detail) SELECT id, $7, 'delivered', last_response FROM delivered
)
SELECT t.id AS target_id, t.quota_bytes, t.other_used + t.used_bytes AS used_bytes, t.stored_mailbox_id, t.stored_uid,
       EXISTS (SELECT 1 FROM claim) AS claimed,
       box.id AS mailbox_id, box.uid, box.modseq, box.uid_validity, (SELECT id FROM change) AS outbox_id
  FROM (VALUES (1)) AS one (x) LEFT JOIN target t ON true LEFT JOIN box ON true`;

/**
 * Appends one message (see the top of this file). `sink` receives the mailbox.changed event;
 * the caller publishes `pending` after the statement (it is committed already).
 */
export async function appendToMailbox(db: Queryable, sink: ChangeSink | undefined, input: AppendInput): Promise<AppendOutcome> {
  const name = normalizeMailboxName(input.mailbox);
  const dup = input.delivery?.duplicateOf;
  // The outbox row's payload is completed in SQL (mailbox id, UID, MODSEQ); the draft of a
  // provisional event gives the routing key and the trace headers, and validates the rest.
  const provisional: MailboxChanged = { type: "mailbox.changed", version: 1, accountId: input.accountId, mailboxId: 1, uid: 1, modseq: 1, change: "exists" };
  const draft = sink?.draft(provisional);
  // FETCH sends these as they are (migration 029).
  const texts = summaryTexts(input.described.envelope, input.described.bodyStructure);
  let row: AppendRow;
  try {
    // A named statement: each connection parses and plans it once, not on every delivery.
    const result = await db.query<AppendRow>({ name: "mailstore-append", text: APPEND, values: [
      input.accountId,
      name,
      input.blobId,
      input.raw ?? null,
      input.size,
      input.flags ?? [],
      input.internalDate,
      JSON.stringify(input.described.envelope),
      JSON.stringify(input.described.bodyStructure),
      input.described.sentDate,
      input.delivery?.deliveryId ?? null,
      dup?.headerMessageId ?? null,
      dup?.digest ?? null,
      dup?.since ?? null,
      draft?.routingKey ?? null,
      draft ? JSON.stringify(draft.headers) : null,
      texts?.envelope ?? null,
      texts?.bodyStructure ?? null,
    ] });
    row = result.rows[0]!;
  } catch (err) {
    // The same delivery appended concurrently by another consumer: its copy won, ours rolled back.
    if (isDeliveryIdClash(err)) return alreadyStored(db, input.delivery!.deliveryId);
    throw err;
  }
  if (row.target_id === null) return { kind: "nonexistent" };
  if (row.stored_uid !== null) return { kind: "already-stored", mailboxId: Number(row.stored_mailbox_id), uid: Number(row.stored_uid) };
  if (row.mailbox_id !== null) {
    const uid = Number(row.uid);
    const modseq = Number(row.modseq);
    const mailboxId = Number(row.mailbox_id);
    const pending =
      sink && draft && row.outbox_id !== null
        ? sink.pending(Number(row.outbox_id), { ...draft, payload: JSON.stringify({ ...provisional, mailboxId, uid, modseq }) })
        : undefined;
    return { kind: "stored", mailboxId, uidValidity: Number(row.uid_validity), uid, modseq, pending };
  }
  if (dup && !row.claimed) return duplicateOf(db, input.accountId, dup);
  if (dup && row.claimed) {
    // The claim was made but the quota check under the row lock refused: give the claim back.
    await db.query("DELETE FROM mailbox_fingerprints WHERE account_id = $1 AND header_message_id = $2 AND digest = $3 AND delivery_id = $4", [
      input.accountId,
      dup.headerMessageId,
      dup.digest,
      input.delivery!.deliveryId,
    ]);
  }
  return { kind: "over-quota", usedBytes: Number(row.used_bytes), limitBytes: Number(row.quota_bytes) };
}

function isDeliveryIdClash(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === "23505" && e.constraint === "mailbox_messages_delivery_id_key";
}

async function alreadyStored(db: Queryable, deliveryId: string): Promise<AppendOutcome> {
  const { rows } = await db.query<{ mailbox_id: number; uid: number }>("SELECT mailbox_id, uid FROM mailbox_messages WHERE delivery_id = $1", [deliveryId]);
  if (!rows[0]) throw new Error(`delivery ${deliveryId} clashed on its delivery id but is not stored`);
  return { kind: "already-stored", mailboxId: Number(rows[0].mailbox_id), uid: Number(rows[0].uid) };
}

async function duplicateOf(db: Queryable, accountId: number, dup: { headerMessageId: string; digest: Buffer }): Promise<AppendOutcome> {
  const { rows } = await db.query<{ delivery_id: string; stored_at: Date; name: string | null; uid: number | null }>(
    `SELECT f.delivery_id, f.stored_at, mb.name, mm.uid
       FROM mailbox_fingerprints f
       LEFT JOIN mailbox_messages mm ON mm.delivery_id = f.delivery_id
       LEFT JOIN mailboxes mb ON mb.id = mm.mailbox_id
      WHERE f.account_id = $1 AND f.header_message_id = $2 AND f.digest = $3`,
    [accountId, dup.headerMessageId, dup.digest],
  );
  const r = rows[0];
  if (!r) throw new Error("duplicate claim lost: the first copy's fingerprint is gone");
  return { kind: "duplicate", deliveryId: r.delivery_id, storedAt: r.stored_at, mailbox: r.name, uid: r.uid === null ? null : Number(r.uid) };
}
