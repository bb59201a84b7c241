/**
 * Mailbox access keys for URLAUTH (RFC 4467 §3, migration 022): 32 random octets per
 * mailbox, made on first use and deleted by RESETKEY. The tokens themselves are computed
 * by the IMAP package; this only keeps the secrets.
 */
import { randomBytes } from "node:crypto";
import type { Queryable } from "@correo/db";
import { normalizeMailboxName } from "./names.js";

/** The key of an account's mailbox; with `create`, made when there is none. Undefined when the mailbox does not exist (or has no key and `create` is false). */
export async function mailboxAccessKey(db: Queryable, accountId: number, mailbox: string, create: boolean): Promise<Buffer | undefined> {
  if (create) {
    // One statement: two GENURLAUTHs at once agree on the key (the loser's INSERT does nothing).
    await db.query(
      `INSERT INTO mailbox_access_keys (mailbox_id, key)
       SELECT id, $3 FROM mailboxes WHERE account_id = $1 AND name = $2
       ON CONFLICT (mailbox_id) DO NOTHING`,
      [accountId, normalizeMailboxName(mailbox), randomBytes(32)],
    );
  }
  const { rows } = await db.query<{ key: Buffer }>(
    `SELECT k.key FROM mailbox_access_keys k JOIN mailboxes m ON m.id = k.mailbox_id WHERE m.account_id = $1 AND m.name = $2`,
    [accountId, normalizeMailboxName(mailbox)],
  );
  return rows[0]?.key;
}

/** RFC 4467 §7.3 RESETKEY: forgets one mailbox's key, or every key of the account; false when the named mailbox does not exist. */
export async function resetAccessKeys(db: Queryable, accountId: number, mailbox?: string): Promise<boolean> {
  if (mailbox === undefined) {
    await db.query(`DELETE FROM mailbox_access_keys k USING mailboxes m WHERE m.id = k.mailbox_id AND m.account_id = $1`, [accountId]);
    return true;
  }
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2`, [accountId, normalizeMailboxName(mailbox)]);
  if (!rows[0]) return false;
  await db.query(`DELETE FROM mailbox_access_keys WHERE mailbox_id = $1`, [rows[0].id]);
  return true;
}
