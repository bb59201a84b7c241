/** STORE (RFC 3501 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3). */
import { withTransaction, type Pool } from "@correo/db";
import { announcer } from "./changes.js";
import { lockMailbox } from "./mailboxes.js";
import type { ChangeSink, StoreMode, StoreResult } from "./types.js";

export async function storeFlags(
  pool: Pool,
  sink: ChangeSink | undefined,
  mailboxId: number,
  uids: readonly number[],
  mode: StoreMode,
  flags: readonly string[],
  unchangedSince?: number,
): Promise<StoreResult> {
  if (uids.length === 0) return { updated: [], modified: [] };
  const news = announcer(sink);
  const result = await withTransaction(pool, async (db) => {
    const box = await lockMailbox(db, mailboxId);
    if (!box) return { updated: [], modified: [] };
    let modified: number[] = [];
    if (unchangedSince !== undefined) {
      const { rows } = await db.query<{ uid: number }>(
        "SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) AND modseq > $3 ORDER BY uid",
        [mailboxId, uids, unchangedSince],
      );
      modified = rows.map((r) => r.uid);
    }
    const modseq = box.highestModseq + 1;
    // Only messages whose flags really change get the new MODSEQ.
    const newFlags =
      mode === "set"
        ? "ARRAY(SELECT DISTINCT unnest($3::text[]) ORDER BY 1)"
        : mode === "add"
          ? "ARRAY(SELECT DISTINCT unnest(flags || $3::text[]) ORDER BY 1)"
          : "ARRAY(SELECT unnest(flags) EXCEPT SELECT unnest($3::text[]) ORDER BY 1)";
    const changes =
      mode === "set" ? "NOT (flags @> $3::text[] AND $3::text[] @> flags)" : mode === "add" ? "NOT (flags @> $3::text[])" : "flags && $3::text[]";
    const { rows } = await db.query<{ uid: number; flags: string[]; modseq: number }>(
      `UPDATE mailbox_messages SET flags = ${newFlags}, modseq = $4
        WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) AND ${changes} AND NOT (uid = ANY($5::bigint[]))
        RETURNING uid, flags, modseq`,
      [mailboxId, uids, flags, modseq, modified],
    );
    if (rows.length) {
      await db.query("UPDATE mailboxes SET highest_modseq = $2 WHERE id = $1", [mailboxId, modseq]);
      await news.add(db, { accountId: box.accountId, mailboxId, uid: rows[0]!.uid, modseq, change: "flags" });
    }
    rows.sort((a, b) => a.uid - b.uid);
    return { updated: rows, modified };
  });
  await news.publish();
  return result;
}
