import type { PoolClient } from "@correo/db";

export interface StoredCopy {
  mailboxId: number;
  uid: number;
  modseq: number;
}

/**
 * Appends a message to an account's mailbox. The mailbox row is locked while its
 * UIDNEXT and HIGHESTMODSEQ advance, so concurrent deliveries get strictly increasing
 * UIDs (RFC 3501 §2.3.1.1). Returns undefined when this delivery is already stored.
 */
export async function appendDelivery(
  db: PoolClient,
  d: { deliveryId: string; accountId: number; mailbox: string; blobId: string; size: number; internalDate: Date },
): Promise<StoredCopy | undefined> {
  const seen = await db.query("SELECT 1 FROM mailbox_messages WHERE delivery_id = $1", [d.deliveryId]);
  if (seen.rowCount) return undefined;
  const { rows } = await db.query<{ id: number; uid: number; modseq: number }>(
    `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
      WHERE account_id = $1 AND name = $2
      RETURNING id, uid_next - 1 AS uid, highest_modseq AS modseq`,
    [d.accountId, d.mailbox],
  );
  const mb = rows[0];
  if (!mb) throw new MailboxMissingError(d.accountId, d.mailbox);
  const inserted = await db.query(
    `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, delivery_id, size, modseq, internal_date)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (delivery_id) DO NOTHING`,
    [mb.id, mb.uid, d.blobId, d.deliveryId, d.size, mb.modseq, d.internalDate],
  );
  // A concurrent copy stored it first; our UID bump is harmless (UIDs may have gaps).
  if (!inserted.rowCount) return undefined;
  return { mailboxId: mb.id, uid: mb.uid, modseq: mb.modseq };
}

export class MailboxMissingError extends Error {
  constructor(accountId: number, mailbox: string) {
    super(`account ${accountId} has no mailbox ${mailbox}`);
    this.name = "MailboxMissingError";
  }
}
