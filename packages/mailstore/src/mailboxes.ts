/** Folders: list, create, delete, rename, subscribe, status (RFC 3501 §6.3). */
import { withTransaction, type Pool, type Queryable } from "@correo/db";
import { HIERARCHY_DELIMITER, invalidMailboxName, normalizeMailboxName } from "./names.js";
import type { Mailbox, MailboxStatus, MailstoreRefusal } from "./types.js";

interface MailboxRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  subscribed: boolean;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
}

const COLUMNS = `id, account_id, name, special_use, uid_validity, uid_next, highest_modseq,
  EXISTS (SELECT 1 FROM mailbox_subscriptions s WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name) AS subscribed`;

/**
 * RFC 3501 §2.3.1.1: a new UIDVALIDITY for a mailbox of this account, above every one the
 * account ever had (accounts.last_uid_validity, migration 013), so that DELETE then CREATE of
 * a name, even within a second, never brings an old UIDVALIDITY back. Seeded by the clock.
 */
export async function nextUidValidity(db: Queryable, accountId: number): Promise<number> {
  const { rows } = await db.query<{ v: string }>(
    `UPDATE accounts SET last_uid_validity = GREATEST(last_uid_validity + 1, extract(epoch FROM clock_timestamp())::bigint,
            (SELECT coalesce(max(uid_validity), 0) + 1 FROM mailboxes WHERE account_id = $1))
      WHERE id = $1 RETURNING last_uid_validity AS v`,
    [accountId],
  );
  if (!rows[0]) throw new Error(`account ${accountId} does not exist`);
  return Number(rows[0].v);
}

/**
 * RFC 3501 §2.3.2 \Recent, as Dovecot keeps it: mailboxes.recent_uid (migration 013) is the
 * highest UID some SELECT has claimed. Returns its value before this call; with `claim`, raises
 * it to `upToUid` in the same statement (the row lock orders concurrent claims), so each
 * message is recent for one session only. UIDs above the returned value are the caller's.
 */
export async function claimRecent(db: Queryable, mailboxId: number, upToUid: number, claim: boolean): Promise<number> {
  if (!claim) {
    const { rows } = await db.query<{ r: string }>("SELECT recent_uid AS r FROM mailboxes WHERE id = $1", [mailboxId]);
    return rows[0] ? Number(rows[0].r) : upToUid;
  }
  const { rows } = await db.query<{ r: string }>(
    `UPDATE mailboxes m SET recent_uid = GREATEST(old.recent_uid, $2)
       FROM (SELECT id, recent_uid FROM mailboxes WHERE id = $1 FOR UPDATE) old
      WHERE m.id = old.id RETURNING old.recent_uid AS r`,
    [mailboxId, upToUid],
  );
  return rows[0] ? Number(rows[0].r) : upToUid;
}

/** RFC 3501 §6.3.9: the subscribed names, whether or not such a mailbox exists (now). */
export async function listSubscriptions(db: Queryable, accountId: number): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>("SELECT name FROM mailbox_subscriptions WHERE account_id = $1 ORDER BY name", [accountId]);
  return rows.map((r) => r.name);
}

export const toMailbox = (r: MailboxRow): Mailbox => ({
  id: r.id,
  accountId: r.account_id,
  name: r.name,
  specialUse: r.special_use,
  subscribed: r.subscribed,
  uidValidity: r.uid_validity,
  uidNext: r.uid_next,
  highestModseq: r.highest_modseq,
});

export async function listMailboxes(db: Queryable, accountId: number): Promise<Mailbox[]> {
  const { rows } = await db.query<MailboxRow>(`SELECT ${COLUMNS} FROM mailboxes WHERE account_id = $1 ORDER BY name`, [accountId]);
  return rows.map(toMailbox);
}

export async function findMailbox(db: Queryable, accountId: number, name: string): Promise<Mailbox | undefined> {
  const { rows } = await db.query<MailboxRow>(`SELECT ${COLUMNS} FROM mailboxes WHERE account_id = $1 AND name = $2`, [
    accountId,
    normalizeMailboxName(name),
  ]);
  return rows[0] && toMailbox(rows[0]);
}

export async function mailboxById(db: Queryable, mailboxId: number): Promise<Mailbox | undefined> {
  const { rows } = await db.query<MailboxRow>(`SELECT ${COLUMNS} FROM mailboxes WHERE id = $1`, [mailboxId]);
  return rows[0] && toMailbox(rows[0]);
}

/** Locks a mailbox row for the rest of the transaction (the one lock order: mailbox rows by id first). */
export async function lockMailbox(db: Queryable, mailboxId: number): Promise<Mailbox | undefined> {
  const { rows } = await db.query<MailboxRow>(`SELECT ${COLUMNS} FROM mailboxes WHERE id = $1 FOR UPDATE`, [mailboxId]);
  return rows[0] && toMailbox(rows[0]);
}

/**
 * RFC 3501 §6.3.3. Levels above the new name that do not exist are created too, as
 * the RFC suggests for servers without \Noselect placeholders. Nothing is subscribed.
 */
export async function createMailbox(
  pool: Pool,
  accountId: number,
  rawName: string,
  specialUse: string | null = null,
): Promise<Mailbox | MailstoreRefusal> {
  const name = normalizeMailboxName(rawName);
  const invalid = invalidMailboxName(name);
  if (invalid) return { refused: "invalid-name", text: invalid };
  return withTransaction(pool, async (db) => {
    const levels = name.split(HIERARCHY_DELIMITER);
    let created: Mailbox | undefined;
    for (let i = 1; i <= levels.length; i++) {
      const level = levels.slice(0, i).join(HIERARCHY_DELIMITER);
      const exists = await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, level]);
      if (exists.rowCount) continue;
      const { rows } = await db.query<MailboxRow>(
        `INSERT INTO mailboxes (account_id, name, special_use, uid_validity)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, name) DO NOTHING
         RETURNING ${COLUMNS}`,
        [accountId, level, i === levels.length ? specialUse : null, await nextUidValidity(db, accountId)],
      );
      if (i === levels.length) created = rows[0] && toMailbox(rows[0]);
    }
    return created ?? { refused: "exists", text: `mailbox ${name} already exists` };
  });
}

/** RFC 3501 §6.3.4: INBOX cannot be deleted; the messages of a deleted mailbox go with it. */
export async function deleteMailbox(pool: Pool, accountId: number, rawName: string): Promise<true | MailstoreRefusal> {
  const name = normalizeMailboxName(rawName);
  if (name === "INBOX") return { refused: "inbox", text: "INBOX cannot be deleted" };
  const { rowCount } = await pool.query("DELETE FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, name]);
  return rowCount ? true : { refused: "nonexistent", text: `mailbox ${name} does not exist` };
}

/**
 * RFC 3501 §6.3.5: renames a mailbox and every mailbox below it. Renaming INBOX moves
 * its messages to a new mailbox of that name and leaves INBOX empty.
 */
export async function renameMailbox(pool: Pool, accountId: number, rawFrom: string, rawTo: string): Promise<true | MailstoreRefusal> {
  const from = normalizeMailboxName(rawFrom);
  const to = normalizeMailboxName(rawTo);
  const invalid = invalidMailboxName(to);
  if (invalid) return { refused: "invalid-name", text: invalid };
  if (to === "INBOX") return { refused: "exists", text: "INBOX already exists" };
  if (to === from || to.startsWith(from + HIERARCHY_DELIMITER)) return { refused: "invalid-name", text: "a mailbox cannot be renamed into itself" };
  return withTransaction(pool, async (db) => {
    const source = await db.query<MailboxRow>(`SELECT ${COLUMNS} FROM mailboxes WHERE account_id = $1 AND name = $2 FOR UPDATE`, [accountId, from]);
    const box = source.rows[0];
    if (!box) return { refused: "nonexistent", text: `mailbox ${from} does not exist` } as const;
    const clash = await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, to]);
    if (clash.rowCount) return { refused: "exists", text: `mailbox ${to} already exists` } as const;
    for (const parent of to.split(HIERARCHY_DELIMITER).slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join(HIERARCHY_DELIMITER))) {
      const exists = await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, parent]);
      if (exists.rowCount) continue;
      await db.query(
        `INSERT INTO mailboxes (account_id, name, uid_validity) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, name) DO NOTHING`,
        [accountId, parent, await nextUidValidity(db, accountId)],
      );
    }
    if (from === "INBOX") {
      const created = await db.query<{ id: number }>(
        `INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, used_bytes, message_count, recent_uid)
         SELECT $1, $2, $3, $4, $5, used_bytes, message_count, recent_uid FROM mailboxes WHERE id = $6 RETURNING id`,
        [accountId, to, box.uid_validity, box.uid_next, box.highest_modseq + 1, box.id],
      );
      // The UIDs travel with the messages, so the new mailbox keeps INBOX's UIDVALIDITY and UIDNEXT;
      // INBOX gets a new UIDVALIDITY (RFC 3501 §2.3.1.1) since its UIDs now mean nothing.
      // Their expunge history goes with them: it is the history of those UIDs (QRESYNC's VANISHED,
      // and SELECT's gaps, messages.ts), and INBOX will hand out the same UIDs again.
      await db.query("UPDATE mailbox_messages SET mailbox_id = $2 WHERE mailbox_id = $1", [box.id, created.rows[0]!.id]);
      await db.query("UPDATE mailbox_expunges SET mailbox_id = $2 WHERE mailbox_id = $1", [box.id, created.rows[0]!.id]);
      await db.query(
        `UPDATE mailboxes SET uid_validity = $2, uid_next = 1, recent_uid = 0, highest_modseq = highest_modseq + 1, used_bytes = 0, message_count = 0
          WHERE id = $1`,
        [box.id, await nextUidValidity(db, accountId)],
      );
      return true as const;
    }
    await db.query(
      `UPDATE mailboxes SET name = $3 || substr(name, length($2) + 1)
        WHERE account_id = $1 AND (name = $2 OR name LIKE $4)`,
      [accountId, from, to, likePrefix(from + HIERARCHY_DELIMITER)],
    );
    // The subscriptions of the renamed mailboxes follow them (as they did when they were a column).
    await db.query(
      `UPDATE mailbox_subscriptions s SET name = $3 || substr(s.name, length($2) + 1)
        WHERE s.account_id = $1 AND (s.name = $2 OR s.name LIKE $4)
          AND NOT EXISTS (SELECT 1 FROM mailbox_subscriptions t WHERE t.account_id = $1 AND t.name = $3 || substr(s.name, length($2) + 1))`,
      [accountId, from, to, likePrefix(from + HIERARCHY_DELIMITER)],
    );
    return true as const;
  });
}

function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => "\\" + c) + "%";
}

/**
 * RFC 3501 §6.3.6/§6.3.7: SUBSCRIBE needs the mailbox to exist; UNSUBSCRIBE works on any
 * subscribed name, also one whose mailbox was deleted since.
 */
export async function setSubscribed(db: Queryable, accountId: number, rawName: string, subscribed: boolean): Promise<true | MailstoreRefusal> {
  const name = normalizeMailboxName(rawName);
  if (!subscribed) {
    const { rowCount } = await db.query("DELETE FROM mailbox_subscriptions WHERE account_id = $1 AND name = $2", [accountId, name]);
    if (rowCount) return true;
    const exists = await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, name]);
    return exists.rowCount ? true : { refused: "nonexistent", text: `mailbox ${name} is not subscribed` };
  }
  const { rowCount } = await db.query(
    `INSERT INTO mailbox_subscriptions (account_id, name)
     SELECT account_id, name FROM mailboxes WHERE account_id = $1 AND name = $2
     ON CONFLICT DO NOTHING`,
    [accountId, name],
  );
  if (rowCount) return true;
  const exists = await db.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = $2", [accountId, name]);
  return exists.rowCount ? true : { refused: "nonexistent", text: `mailbox ${name} does not exist` };
}

export async function mailboxStatus(db: Queryable, mailbox: Mailbox): Promise<MailboxStatus> {
  // RECENT: the messages no SELECT has claimed yet (claimRecent, mailboxes.recent_uid).
  const { rows } = await db.query<{ messages: number; recent: number; unseen: number; size: number; deleted: number; deleted_size: number }>(
    `SELECT count(*)::int AS messages,
            count(*) FILTER (WHERE uid > (SELECT recent_uid FROM mailboxes WHERE id = $1))::int AS recent,
            count(*) FILTER (WHERE NOT ('\\Seen' = ANY(flags)))::int AS unseen,
            count(*) FILTER (WHERE '\\Deleted' = ANY(flags))::int AS deleted,
            coalesce(sum(size), 0)::bigint AS size,
            coalesce(sum(size) FILTER (WHERE '\\Deleted' = ANY(flags)), 0)::bigint AS deleted_size
       FROM mailbox_messages WHERE mailbox_id = $1`,
    [mailbox.id],
  );
  const r = rows[0]!;
  return {
    messages: r.messages,
    recent: r.recent,
    unseen: r.unseen,
    deleted: r.deleted,
    deletedSize: Number(r.deleted_size),
    size: Number(r.size),
    uidNext: mailbox.uidNext,
    uidValidity: mailbox.uidValidity,
    highestModseq: mailbox.highestModseq,
    mailboxId: mailbox.id,
  };
}
