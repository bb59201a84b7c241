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
  // One statement, so one snapshot: the HIGHESTMODSEQ returned covers exactly the rows
  // returned. (Three queries on three connections could read it after an append their
  // row query had not seen; the session then moved past that message and never told it.)
  const { rows } = await db.query<{ kind: "h" | "m" | "x"; uid: number | null; flags: string[] | null; modseq: number | null }>({
    name: "mailstore-changes-since",
    text: `SELECT 'h' AS kind, NULL::bigint AS uid, NULL::text[] AS flags, highest_modseq::bigint AS modseq FROM mailboxes WHERE id = $1
           UNION ALL
           SELECT 'm', uid::bigint, flags, modseq::bigint FROM mailbox_messages WHERE mailbox_id = $1 AND modseq > $2
           UNION ALL
           SELECT 'x', uid::bigint, NULL, NULL FROM mailbox_expunges WHERE mailbox_id = $1 AND modseq > $2
           ORDER BY 1, 2`,
    values: [mailboxId, modseq],
  });
  let highestModseq = modseq;
  const upserts: Changes["upserts"] = [];
  const expunged: number[] = [];
  for (const r of rows) {
    if (r.kind === "h") highestModseq = r.modseq!;
    else if (r.kind === "m") upserts.push({ uid: r.uid!, flags: r.flags!, modseq: r.modseq! });
    else expunged.push(r.uid!);
  }
  return { highestModseq, upserts, expunged };
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
