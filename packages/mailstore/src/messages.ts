/** Reading messages: the SELECT snapshot, records by UID, newest-first pages, raw bodies. */
import type { Queryable } from "@correo/db";
import { getBlob } from "@correo/spool";
import { describeMessage, type BodyPart, type Envelope } from "./mime-structure.js";
import type { Mailbox, MailboxSnapshot, MessagePage, MessageRecord } from "./types.js";

/**
 * What SELECT reports. The unseen figures and the keywords read partial indexes
 * (migration 010) that hold only unseen messages and only messages with a keyword, so
 * a large folder is not read row by row; the predicates here must stay the indexes'.
 */
export async function snapshot(db: Queryable, mailbox: Mailbox): Promise<MailboxSnapshot> {
  // One row with the UIDs as text: for 100 000 messages this is far cheaper than 100 000 rows.
  const { rows } = await db.query<{ uids: string | null; unseen: number; first_unseen: number | null; keywords: string[] | null }>(
    `SELECT (SELECT string_agg(uid::text, ',' ORDER BY uid) FROM mailbox_messages WHERE mailbox_id = $1) AS uids,
            (SELECT count(*)::int FROM mailbox_messages WHERE mailbox_id = $1 AND ${UNSEEN}) AS unseen,
            (SELECT min(uid) FROM mailbox_messages WHERE mailbox_id = $1 AND ${UNSEEN}) AS first_unseen,
            (SELECT array_agg(DISTINCT f ORDER BY f) FROM mailbox_messages, unnest(flags) AS f
              WHERE mailbox_id = $1 AND ${HAS_KEYWORD} AND left(f, 1) <> '\\') AS keywords`,
    [mailbox.id],
  );
  const r = rows[0]!;
  return {
    mailbox,
    uids: r.uids ? r.uids.split(",").map(Number) : [],
    unseen: r.unseen,
    firstUnseenUid: r.first_unseen,
    keywordsInUse: r.keywords ?? [],
  };
}

interface MessageRow {
  uid: number;
  flags: string[];
  modseq: number;
  internal_date: Date;
  size: number;
  blob_id: string;
  envelope: Envelope | null;
  body_structure: BodyPart | null;
  content?: Buffer;
}

/** The predicate of the mailbox_messages_unseen partial index (migration 010). */
export const UNSEEN = "NOT ('\\Seen' = ANY (flags))";
/** The predicate of the mailbox_messages_keywords partial index (migration 010). */
const HAS_KEYWORD = "NOT (flags <@ ARRAY['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'])";

const COLUMNS = "uid, flags, modseq, internal_date, size, blob_id, envelope, body_structure";

/**
 * The messages with these UIDs, in UID order (absent UIDs are skipped). `raw` also
 * reads each body. Rows stored before structures were kept are described now.
 */
export async function fetchMessages(db: Queryable, mailboxId: number, uids: readonly number[], opts: { raw?: boolean } = {}): Promise<MessageRecord[]> {
  if (uids.length === 0) return [];
  const { rows } = await db.query<MessageRow>(
    opts.raw
      ? `SELECT m.uid, m.flags, m.modseq, m.internal_date, m.size, m.blob_id, m.envelope, m.body_structure, b.content
           FROM mailbox_messages m JOIN blobs b ON b.id = m.blob_id
          WHERE m.mailbox_id = $1 AND m.uid = ANY($2::bigint[]) ORDER BY m.uid`
      : `SELECT ${COLUMNS} FROM mailbox_messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid`,
    [mailboxId, uids],
  );
  return Promise.all(rows.map((r) => toRecord(db, mailboxId, r)));
}

/** Flags and MODSEQ only: what FETCH FLAGS and STORE answers need, without the structures. */
export async function fetchFlags(db: Queryable, mailboxId: number, uids: readonly number[]): Promise<{ uid: number; flags: string[]; modseq: number }[]> {
  if (uids.length === 0) return [];
  const { rows } = await db.query<{ uid: number; flags: string[]; modseq: number }>(
    "SELECT uid, flags, modseq FROM mailbox_messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid",
    [mailboxId, uids],
  );
  return rows;
}

async function toRecord(db: Queryable, mailboxId: number, r: MessageRow): Promise<MessageRecord> {
  let envelope = r.envelope;
  let bodyStructure = r.body_structure;
  if (!envelope || !bodyStructure) {
    const raw = r.content ?? (await getBlob(db, r.blob_id)) ?? Buffer.alloc(0);
    const d = describeMessage(raw);
    envelope = d.envelope;
    bodyStructure = d.bodyStructure;
    await db.query(
      "UPDATE mailbox_messages SET envelope = $3, body_structure = $4, sent_date = $5 WHERE mailbox_id = $1 AND uid = $2",
      [mailboxId, r.uid, JSON.stringify(envelope), JSON.stringify(bodyStructure), d.sentDate],
    );
  }
  const record: MessageRecord = {
    uid: r.uid,
    flags: r.flags,
    modseq: r.modseq,
    internalDate: r.internal_date,
    size: r.size,
    blobId: r.blob_id,
    envelope,
    bodyStructure,
  };
  if (r.content) record.raw = r.content;
  return record;
}

/** Newest first, `limit` at a time; `beforeUid` continues from an earlier page. */
export async function listMessages(db: Queryable, mailboxId: number, opts: { limit: number; beforeUid?: number }): Promise<MessagePage> {
  const limit = Math.max(1, Math.min(opts.limit, 1000));
  const { rows } = await db.query<{ uid: number }>(
    `SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 AND ($2::bigint IS NULL OR uid < $2) ORDER BY uid DESC LIMIT $3`,
    [mailboxId, opts.beforeUid ?? null, limit + 1],
  );
  const uids = rows.slice(0, limit).map((r) => r.uid);
  const total = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM mailbox_messages WHERE mailbox_id = $1", [mailboxId]);
  const messages = (await fetchMessages(db, mailboxId, uids)).reverse();
  return { messages, nextBeforeUid: rows.length > limit ? uids[uids.length - 1]! : null, total: total.rows[0]!.n };
}

/** The raw message stored under a UID, or undefined. */
export async function readRaw(db: Queryable, mailboxId: number, uid: number): Promise<Buffer | undefined> {
  const { rows } = await db.query<{ content: Buffer }>(
    "SELECT b.content FROM mailbox_messages m JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = $1 AND m.uid = $2",
    [mailboxId, uid],
  );
  return rows[0]?.content;
}
