import type { Queryable } from "@correo/db";
import { recipientStatus, usedBytes, type RecipientStatus } from "@correo/directory";
import type { RecipientFacts } from "./decide.js";

/** What the directory knows about one recipient, with the account's quota when it has one. */
export async function lookupRecipient(
  db: Queryable,
  recipient: string,
  messageBytes: number,
  known?: RecipientStatus,
): Promise<RecipientFacts> {
  const status = known ?? (await recipientStatus(db, recipient));
  if (status.kind !== "local") return { recipient, status };
  const { rows } = await db.query<{ quota_bytes: number | null }>("SELECT quota_bytes FROM accounts WHERE id = $1", [status.accountId]);
  const limitBytes = rows[0]?.quota_bytes;
  if (limitBytes === null || limitBytes === undefined) return { recipient, status };
  return { recipient, status, quota: { limitBytes, usedBytes: await usedBytes(db, status.accountId), messageBytes } };
}
