/** STORE (RFC 3501 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3). */
import { withTransaction, type Pool } from "@correo/db";
import { announcer } from "./changes.js";
import { lockMailbox } from "./mailboxes.js";
import type { ChangeSink, StoreMode, StoreResult } from "./types.js";
import { SYSTEM_FLAGS } from "@correo/imap";

const stored = "ARRAY(SELECT lower(x) FROM unnest(flags) AS x)";
const given = "ARRAY(SELECT lower(x) FROM unnest($3::text[]) AS x)";

/** The new flags, and which messages change, for any flags: keywords compare case-insensitively. */
const KEYWORD_UPDATE: Record<StoreMode, { newFlags: string; changes: string }> = {
  set: { newFlags: "ARRAY(SELECT DISTINCT unnest($3::text[]) ORDER BY 1)", changes: `NOT (${stored} @> ${given} AND ${given} @> ${stored})` },
  add: {
    newFlags: `ARRAY(SELECT DISTINCT f FROM unnest(flags || ARRAY(SELECT n FROM unnest($3::text[]) AS n WHERE NOT (lower(n) = ANY (${stored})))) AS f ORDER BY 1)`,
    changes: `NOT (${stored} @> ${given})`,
  },
  remove: { newFlags: `ARRAY(SELECT f FROM unnest(flags) AS f WHERE NOT (lower(f) = ANY (${given})) ORDER BY 1)`, changes: `${stored} && ${given}` },
};

/**
 * The same when only system flags are given (STORE +FLAGS (\Seen), the common case): they
 * are stored in their canonical case and no keyword can equal one, so plain array
 * operators decide, without lower-casing every message's flags twice (a STORE of 10 000
 * messages spent 40 % of its PostgreSQL time there).
 */
const SYSTEM_FLAG_UPDATE: Record<StoreMode, { newFlags: string; changes: string }> = {
  set: { newFlags: KEYWORD_UPDATE.set.newFlags, changes: "NOT (flags @> $3::text[] AND $3::text[] @> flags)" },
  add: { newFlags: "ARRAY(SELECT DISTINCT f FROM unnest(flags || $3::text[]) AS f ORDER BY 1)", changes: "NOT (flags @> $3::text[])" },
  remove: { newFlags: "ARRAY(SELECT f FROM unnest(flags) AS f WHERE NOT (f = ANY ($3::text[])) ORDER BY 1)", changes: "flags && $3::text[]" },
};

/** Only canonical system flags (RFC 3501 §2.3.2), as the IMAP and HTTP layers pass them. */
function flagsOnly(flags: readonly string[]): boolean {
  return flags.every((f) => SYSTEM_FLAGS.includes(f));
}

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
    // Flags compare case-insensitively (RFC 3501 §2.3.2; system flags arrive canonical,
    // keywords as the client wrote them): +FLAGS ($label1) on $Label1 changes nothing,
    // -FLAGS ($label1) removes it. Only messages whose flags really change get the new MODSEQ.
    const { newFlags, changes } = flagsOnly(flags) ? SYSTEM_FLAG_UPDATE[mode] : KEYWORD_UPDATE[mode];
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
