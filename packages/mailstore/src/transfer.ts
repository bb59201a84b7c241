/**
 * Changes of membership: APPEND (RFC 3501 §6.3.11), COPY (§6.4.7), MOVE (RFC 6851),
 * EXPUNGE (§6.4.3, UID EXPUNGE RFC 4315 §2.1). Bodies are never copied: a copy is a new
 * row pointing at the same content-addressed blob. Mailbox rows are locked in id order,
 * the lock order every writer follows, so concurrent writers never deadlock.
 */
import { withTransaction, type Pool, type Queryable } from "@correo/db";
import { blobIdOf, type PendingEvent } from "@correo/spool";
import { appendToMailbox } from "./append.js";
import { announcer } from "./changes.js";
import { findMailbox, lockMailbox } from "./mailboxes.js";
import { describeMessage } from "./mime-structure.js";
import { normalizeMailboxName } from "./names.js";
import { accountQuota, wouldExceed } from "./quota.js";
import type { AppendResult, ChangeSink, ExpungeResult, MailstoreRefusal, TransferResult } from "./types.js";

/** RFC 3501 §6.3.11 APPEND (and the HTTP API's upload): the one append of append.ts. */
export async function appendMessage(
  pool: Pool,
  sink: ChangeSink | undefined,
  accountId: number,
  mailboxName: string,
  raw: Buffer,
  opts: { flags?: readonly string[]; internalDate?: Date } = {},
): Promise<AppendResult | MailstoreRefusal> {
  const name = normalizeMailboxName(mailboxName);
  const outcome = await appendToMailbox(pool, sink, {
    accountId,
    mailbox: name,
    blobId: blobIdOf(raw),
    raw,
    size: raw.length,
    described: describeMessage(raw),
    flags: opts.flags,
    internalDate: opts.internalDate ?? new Date(),
  });
  switch (outcome.kind) {
    case "stored":
      if (sink && outcome.pending) sink.announce([outcome.pending]);
      return { mailboxId: outcome.mailboxId, uidValidity: outcome.uidValidity, uid: outcome.uid };
    case "over-quota":
      return overQuota();
    default:
      return { refused: "nonexistent", text: `mailbox ${name} does not exist` };
  }
}

/** One message of a MULTIAPPEND (RFC 3502). */
export interface AppendItem {
  raw: Buffer;
  flags?: readonly string[];
  internalDate?: Date;
}

class AppendRefused extends Error {
  constructor(readonly refusal: MailstoreRefusal) {
    super(refusal.text);
  }
}

/**
 * RFC 3502 MULTIAPPEND: all the messages in one transaction, or none. A refusal of any
 * message (mailbox gone, quota) rolls back the ones before it; the UIDs are consecutive
 * because the mailbox row stays locked until the commit. Events are published after it.
 */
export async function appendMessages(
  pool: Pool,
  sink: ChangeSink | undefined,
  accountId: number,
  mailboxName: string,
  items: readonly AppendItem[],
): Promise<{ mailboxId: number; uidValidity: number; uids: number[] } | MailstoreRefusal> {
  const name = normalizeMailboxName(mailboxName);
  const described = items.map((m) => describeMessage(m.raw));
  try {
    const { stored, pending } = await withTransaction(pool, async (db) => {
      const stored: AppendResult[] = [];
      const pending: PendingEvent[] = [];
      for (const [i, m] of items.entries()) {
        const outcome = await appendToMailbox(db, sink, {
          accountId,
          mailbox: name,
          blobId: blobIdOf(m.raw),
          raw: m.raw,
          size: m.raw.length,
          described: described[i]!,
          flags: m.flags,
          internalDate: m.internalDate ?? new Date(),
        });
        if (outcome.kind === "stored") {
          stored.push({ mailboxId: outcome.mailboxId, uidValidity: outcome.uidValidity, uid: outcome.uid });
          if (outcome.pending) pending.push(outcome.pending);
        } else if (outcome.kind === "over-quota") throw new AppendRefused(overQuota());
        else throw new AppendRefused({ refused: "nonexistent", text: `mailbox ${name} does not exist` });
      }
      return { stored, pending };
    });
    if (sink && pending.length) sink.announce(pending);
    return { mailboxId: stored[0]!.mailboxId, uidValidity: stored[0]!.uidValidity, uids: stored.map((s) => s.uid) };
  } catch (err) {
    if (err instanceof AppendRefused) return err.refusal;
    throw err;
  }
}

function overQuota(): MailstoreRefusal {
  return { refused: "over-quota", text: "the account's storage quota would be exceeded" };
}

export async function copyMessages(
  pool: Pool,
  sink: ChangeSink | undefined,
  accountId: number,
  sourceMailboxId: number,
  uids: readonly number[],
  destinationName: string,
  opts: { move?: boolean } = {},
): Promise<(TransferResult & { expunged: number[] }) | MailstoreRefusal> {
  const name = normalizeMailboxName(destinationName);
  const target = await findMailbox(pool, accountId, name);
  if (!target) return { refused: "nonexistent", text: `mailbox ${name} does not exist` };
  const news = announcer(sink);
  const result = await withTransaction(pool, async (db) => {
    const [first, second] = [sourceMailboxId, target.id].sort((a, b) => a - b);
    const locked = new Map([[first!, await lockMailbox(db, first!)]]);
    if (second !== first) locked.set(second!, await lockMailbox(db, second!));
    const source = locked.get(sourceMailboxId);
    const dest = locked.get(target.id);
    if (!source || !dest) return { refused: "nonexistent", text: `mailbox ${name} does not exist` } as const;
    const { rows: messages } = await db.query<{ uid: number; size: number }>(
      "SELECT uid, size FROM mailbox_messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid",
      [sourceMailboxId, uids],
    );
    if (messages.length === 0) return { uidValidity: dest.uidValidity, pairs: [], destinationMailboxId: dest.id, expunged: [] };
    // A move adds nothing to the account's usage; a copy adds its messages again.
    const added = opts.move ? 0 : messages.reduce((n, m) => n + m.size, 0);
    if (added && wouldExceed(await accountQuota(db, accountId), added)) return overQuota();
    const firstUid = dest.uidNext;
    const destModseq = dest.highestModseq + 1;
    // used_bytes and message_count: what the destination gains (a move's source gives it back in removeMessages).
    const moved = messages.reduce((n, m) => n + m.size, 0);
    await db.query("UPDATE mailboxes SET uid_next = uid_next + $2, message_count = message_count + $2, highest_modseq = $3, used_bytes = used_bytes + $4 WHERE id = $1", [
      dest.id,
      messages.length,
      destModseq,
      moved,
    ]);
    await db.query(
      `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, flags, internal_date, size, modseq, envelope, body_structure, sent_date,
                                     imap_envelope, imap_body_structure)
       SELECT $1, $3 + ord - 1, m.blob_id, m.flags, m.internal_date, m.size, $4, m.envelope, m.body_structure, m.sent_date,
              m.imap_envelope, m.imap_body_structure
         FROM unnest($5::bigint[]) WITH ORDINALITY AS src(uid, ord)
         JOIN mailbox_messages m ON m.mailbox_id = $2 AND m.uid = src.uid`,
      [dest.id, sourceMailboxId, firstUid, destModseq, messages.map((m) => m.uid)],
    );
    const pairs = messages.map((m, i) => [m.uid, firstUid + i] as [number, number]);
    await news.add(db, { accountId, mailboxId: dest.id, uid: firstUid, modseq: destModseq, change: "exists" });
    let expunged: number[] = [];
    if (opts.move) {
      // A move into the same mailbox already bumped its MODSEQ above; a second bump keeps "expunge after exists".
      const modseq = (await db.query<{ m: number }>("UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq AS m", [sourceMailboxId])).rows[0]!.m;
      expunged = await removeMessages(db, sourceMailboxId, messages.map((m) => m.uid), modseq);
      await news.add(db, { accountId, mailboxId: sourceMailboxId, uid: expunged[0]!, modseq, change: "expunge" });
    }
    return { uidValidity: dest.uidValidity, pairs, destinationMailboxId: dest.id, expunged };
  });
  await news.publish();
  return result;
}

async function removeMessages(db: Queryable, mailboxId: number, uids: readonly number[], modseq: number): Promise<number[]> {
  // One statement: the rows go, their UIDs are kept with the MODSEQ, the folder's used_bytes and count shrink.
  const { rows } = await db.query<{ uid: number }>(
    `WITH gone AS (
       DELETE FROM mailbox_messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) RETURNING uid, size
     ), kept AS (
       INSERT INTO mailbox_expunges (mailbox_id, uid, modseq) SELECT $1, uid, $3 FROM gone
       ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq
     ), shrunk AS (
       UPDATE mailboxes SET used_bytes = used_bytes - (SELECT coalesce(sum(size), 0) FROM gone), message_count = message_count - (SELECT count(*) FROM gone)
        WHERE id = $1
     )
     SELECT uid FROM gone`,
    [mailboxId, uids, modseq],
  );
  const removed = rows.map((r) => Number(r.uid)).sort((a, b) => a - b);
  return removed;
}

/**
 * Removes the messages flagged \Deleted (only those among `uids` when given, as UID
 * EXPUNGE does). `all` removes the given UIDs whatever their flags (HTTP delete).
 */
export async function expungeMessages(
  pool: Pool,
  sink: ChangeSink | undefined,
  mailboxId: number,
  opts: { uids?: readonly number[]; ignoreDeletedFlag?: boolean } = {},
): Promise<ExpungeResult> {
  const news = announcer(sink);
  const result = await withTransaction(pool, async (db) => {
    const box = await lockMailbox(db, mailboxId);
    if (!box) return { expunged: [], modseq: 0 };
    const { rows } = await db.query<{ uid: number }>(
      `SELECT uid FROM mailbox_messages WHERE mailbox_id = $1
          AND ($2::bigint[] IS NULL OR uid = ANY($2::bigint[]))
          AND ($3 OR '\\Deleted' = ANY(flags))`,
      [mailboxId, opts.uids ?? null, opts.ignoreDeletedFlag ?? false],
    );
    if (rows.length === 0) return { expunged: [], modseq: box.highestModseq };
    const modseq = box.highestModseq + 1;
    await db.query("UPDATE mailboxes SET highest_modseq = $2 WHERE id = $1", [mailboxId, modseq]);
    const expunged = await removeMessages(db, mailboxId, rows.map((r) => r.uid), modseq);
    await news.add(db, { accountId: box.accountId, mailboxId, uid: expunged[0]!, modseq, change: "expunge" });
    return { expunged, modseq };
  });
  await news.publish();
  return result;
}
