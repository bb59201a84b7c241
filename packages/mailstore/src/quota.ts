/** Storage quotas (RFC 9208 STORAGE): the sum of message sizes over an account's mailboxes. */
import type { Queryable } from "@correo/db";
import type { Quota } from "./types.js";

export async function accountQuota(db: Queryable, accountId: number): Promise<Quota> {
  const { rows } = await db.query<{ used: number; quota_bytes: number | null }>(
    `SELECT (SELECT coalesce(sum(mm.size), 0)::bigint FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id
              WHERE m.account_id = $1) AS used, a.quota_bytes
       FROM accounts a WHERE a.id = $1`,
    [accountId],
  );
  const r = rows[0];
  return { usedBytes: Number(r?.used ?? 0), limitBytes: r?.quota_bytes ?? null };
}

/** True when `extraBytes` more would go over the account's quota. */
export function wouldExceed(quota: Quota, extraBytes: number): boolean {
  return quota.limitBytes !== null && quota.usedBytes + extraBytes > quota.limitBytes;
}
