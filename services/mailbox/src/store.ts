import type { PoolClient } from "@correo/db";
import { accountQuota, describeMessage, wouldExceed } from "@correo/mailstore";

export interface StoredCopy {
  mailboxId: number;
  uid: number;
  modseq: number;
}

/** Why a delivery was not stored: the account is over its quota (a temporary condition). */
export interface OverQuota {
  overQuota: true;
  usedBytes: number;
  limitBytes: number;
}

/**
 * Appends a message to an account's mailbox. The mailbox row is locked while its
 * UIDNEXT and HIGHESTMODSEQ advance, so concurrent deliveries get strictly increasing
 * UIDs (RFC 3501 §2.3.1.1). The envelope and body structure are parsed here, once,
 * and stored beside the message for every later FETCH. Returns undefined when this
 * delivery is already stored, OverQuota when it would exceed the account's quota.
 */
export async function appendDelivery(
  db: PoolClient,
  d: { deliveryId: string; accountId: number; mailbox: string; blobId: string; size: number; internalDate: Date; raw: Buffer },
): Promise<StoredCopy | OverQuota | undefined> {
  const seen = await db.query("SELECT 1 FROM mailbox_messages WHERE delivery_id = $1", [d.deliveryId]);
  if (seen.rowCount) return undefined;
  // The mailbox row is locked first (the one lock order of every writer); the quota is
  // checked under that lock, so two deliveries cannot both slip under the limit.
  const box = await db.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2 FOR UPDATE", [d.accountId, d.mailbox]);
  if (!box.rows[0]) throw new MailboxMissingError(d.accountId, d.mailbox);
  const quota = await accountQuota(db, d.accountId);
  if (wouldExceed(quota, d.size)) return { overQuota: true, usedBytes: quota.usedBytes, limitBytes: quota.limitBytes! };
  const { rows } = await db.query<{ id: number; uid: number; modseq: number }>(
    `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
      WHERE id = $1
      RETURNING id, uid_next - 1 AS uid, highest_modseq AS modseq`,
    [box.rows[0].id],
  );
  const mb = rows[0]!;
  const described = describeMessage(d.raw);
  const inserted = await db.query(
    `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, delivery_id, size, modseq, internal_date, envelope, body_structure, sent_date)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (delivery_id) DO NOTHING`,
    [mb.id, mb.uid, d.blobId, d.deliveryId, d.size, mb.modseq, d.internalDate,
     JSON.stringify(described.envelope), JSON.stringify(described.bodyStructure), described.sentDate],
  );
  // A concurrent copy stored it first; our UID bump is harmless (UIDs may have gaps).
  if (!inserted.rowCount) return undefined;
  return { mailboxId: mb.id, uid: mb.uid, modseq: mb.modseq };
}

export function isOverQuota(x: StoredCopy | OverQuota | undefined): x is OverQuota {
  return x !== undefined && "overQuota" in x;
}

export class MailboxMissingError extends Error {
  constructor(accountId: number, mailbox: string) {
    super(`account ${accountId} has no mailbox ${mailbox}`);
    this.name = "MailboxMissingError";
  }
}
