/**
 * Storage quotas (RFC 9208 STORAGE). Usage is the sum of the per-folder counters that every
 * append, copy, move and expunge keeps (mailboxes.used_bytes, migration 011): a handful of
 * rows per account, whatever the number of messages.
 */
import type { Queryable } from "@correo/db";
import type { Quota } from "./types.js";

export async function accountQuota(db: Queryable, accountId: number): Promise<Quota> {
  const { rows } = await db.query<{ used: number; quota_bytes: number | null }>(
    `SELECT (SELECT coalesce(sum(used_bytes), 0)::bigint FROM mailboxes WHERE account_id = $1) AS used, a.quota_bytes
       FROM accounts a WHERE a.id = $1`,
    [accountId],
  );
  const r = rows[0];
  return { usedBytes: Number(r?.used ?? 0), limitBytes: r?.quota_bytes === null || r?.quota_bytes === undefined ? null : Number(r.quota_bytes) };
}

/** True when `extraBytes` more would go over the account's quota. */
export function wouldExceed(quota: Quota, extraBytes: number): boolean {
  return quota.limitBytes !== null && quota.usedBytes + extraBytes > quota.limitBytes;
}
