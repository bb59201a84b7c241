/**
 * Change tracking. Every change bumps the mailbox's HIGHESTMODSEQ (RFC 7162 §3);
 * expunged UIDs are kept with their MODSEQ, so a session in any process can learn
 * what happened since the MODSEQ it last saw with one query. mailbox.changed events
 * only wake sessions up; this is where they read what changed.
 */
import type { Queryable } from "@correo/db";
import type { MailboxChanged } from "@correo/contracts";
import type { PendingEvent } from "@correo/spool";
import type { ChangeSink, Changes } from "./types.js";

export async function changesSince(db: Queryable, mailboxId: number, modseq: number): Promise<Changes> {
  const [box, upserts, expunged] = await Promise.all([
    db.query<{ highest_modseq: number }>("SELECT highest_modseq FROM mailboxes WHERE id = $1", [mailboxId]),
    db.query<{ uid: number; flags: string[]; modseq: number }>(
      "SELECT uid, flags, modseq FROM mailbox_messages WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
      [mailboxId, modseq],
    ),
    db.query<{ uid: number }>("SELECT uid FROM mailbox_expunges WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid", [mailboxId, modseq]),
  ]);
  return {
    highestModseq: box.rows[0]?.highest_modseq ?? modseq,
    upserts: upserts.rows,
    expunged: expunged.rows.map((r) => r.uid),
  };
}

/** Advances HIGHESTMODSEQ of a locked mailbox and returns the new value. */
export async function nextModseq(db: Queryable, mailboxId: number): Promise<number> {
  const { rows } = await db.query<{ m: number }>(
    "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = $1 RETURNING highest_modseq AS m",
    [mailboxId],
  );
  return rows[0]!.m;
}

export interface Announcer {
  add(db: Queryable, event: Omit<MailboxChanged, "type" | "version">): Promise<void>;
  publish(): Promise<void>;
}

/** Collects mailbox.changed events inside a transaction; publish() after commit. */
export function announcer(sink: ChangeSink | undefined): Announcer {
  const pending: PendingEvent[] = [];
  return {
    async add(db, event) {
      if (!sink) return;
      pending.push(await sink.enqueue(db, { type: "mailbox.changed", version: 1, ...event }));
    },
    async publish() {
      if (sink && pending.length) sink.announce(pending.splice(0));
    },
  };
}
