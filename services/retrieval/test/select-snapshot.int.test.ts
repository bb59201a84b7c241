import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailStore, type Mailbox } from "@correo/mailstore";

// SELECT's snapshot derives the UIDs from the folder row's count and the expunge history
// (migration 028) instead of reading them. These tests hold it to the table itself after
// every kind of change that adds or removes messages.
let infra: IsolatedInfra;
let store: MailStore;
let accountId: number;

beforeAll(async () => {
  infra = await isolatedInfra("mailstore-snapshot");
  await addDomain(infra.pool, "snap.test");
  accountId = (await addAccount(infra.pool, "ana@snap.test", "long enough pass")).id;
  store = new MailStore({ pool: infra.pool });
});
afterAll(async () => {
  await infra?.cleanup();
});

const plain = (i: number) => Buffer.from(`From: bea@example.org\r\nTo: ana@snap.test\r\nSubject: ${i}\r\n\r\nbody ${i}\r\n`);

async function box(name: string): Promise<Mailbox> {
  return (await store.findMailbox(accountId, name))!;
}

/** What the table holds, and what the folder row counts. */
async function truth(name: string): Promise<{ uids: number[]; count: number }> {
  const b = await box(name);
  const { rows } = await infra.pool.query<{ uid: string }>("SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 ORDER BY uid", [b.id]);
  const { rows: c } = await infra.pool.query<{ message_count: string }>("SELECT message_count FROM mailboxes WHERE id = $1", [b.id]);
  return { uids: rows.map((r) => Number(r.uid)), count: Number(c[0]!.message_count) };
}

/** The snapshot agrees with the table, and says which way it found the UIDs. */
async function expectSnapshot(name: string): Promise<number[]> {
  const t = await truth(name);
  expect(t.count).toBe(t.uids.length);
  const snap = await store.snapshot(await box(name));
  expect(snap.uids).toEqual(t.uids);
  return snap.uids;
}

async function appendN(name: string, n: number, from = 0): Promise<number[]> {
  const uids: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await store.append(accountId, name, plain(from + i));
    if ("refused" in r) throw new Error(r.text);
    uids.push(r.uid);
  }
  return uids;
}

describe("SELECT's snapshot without reading every UID (migration 028)", () => {
  it("keeps the count with appends, MULTIAPPEND, copies, moves and expunges, and derives the same UIDs as the table holds", async () => {
    expect(await expectSnapshot("INBOX")).toEqual([]);
    const first = await appendN("INBOX", 12);
    expect(await expectSnapshot("INBOX")).toEqual(first);

    const many = await store.appendMany(accountId, "INBOX", [{ raw: plain(100) }, { raw: plain(101) }, { raw: plain(102) }]);
    if ("refused" in many) throw new Error(many.text);
    await expectSnapshot("INBOX");

    // Expunge a few in the middle and at both ends (EXPUNGE of \Deleted, and a removal by UID).
    const inbox = await box("INBOX");
    await store.storeFlags(inbox.id, [first[0]!, first[4]!, first[5]!], "add", ["\\Deleted"]);
    await store.expunge(inbox.id);
    await store.remove(inbox.id, [many.uids[2]!]);
    const afterExpunge = await expectSnapshot("INBOX");
    expect(afterExpunge).not.toContain(first[0]);
    expect(afterExpunge).not.toContain(first[4]);
    expect(afterExpunge).not.toContain(many.uids[2]);

    // Copy into another folder, then move some back and forth.
    expect(await store.createMailbox(accountId, "Archive")).not.toHaveProperty("refused");
    await store.copy(accountId, inbox.id, afterExpunge.slice(0, 5), "Archive");
    await expectSnapshot("Archive");
    await store.move(accountId, inbox.id, afterExpunge.slice(5, 8), "Archive");
    await expectSnapshot("INBOX");
    await expectSnapshot("Archive");
    const archive = await box("Archive");
    const archived = (await truth("Archive")).uids;
    await store.move(accountId, archive.id, archived.slice(0, 2), "INBOX");
    await expectSnapshot("INBOX");
    await expectSnapshot("Archive");
    // A move within one folder gives new UIDs and expunges the old ones.
    await store.move(accountId, archive.id, [archived[3]!], "Archive");
    await expectSnapshot("Archive");
  });

  it("follows an INBOX rename: the messages, their count and their expunge history go to the new folder", async () => {
    const before = await truth("INBOX");
    expect(before.uids.length).toBeGreaterThan(0);
    expect(await store.renameMailbox(accountId, "INBOX", "Old")).toBe(true);
    expect(await expectSnapshot("Old")).toEqual(before.uids);
    expect(await expectSnapshot("INBOX")).toEqual([]);
    // INBOX hands out UIDs 1, 2 … again: none of them is a gap, though Old's history has them.
    const fresh = await appendN("INBOX", 4, 200);
    expect(fresh).toEqual([1, 2, 3, 4]);
    expect(await expectSnapshot("INBOX")).toEqual(fresh);
    await store.remove((await box("INBOX")).id, [2]);
    expect(await expectSnapshot("INBOX")).toEqual([1, 3, 4]);
  });

  it("falls back to reading the UIDs when the expunge history does not account for the gaps", async () => {
    expect(await store.createMailbox(accountId, "Legacy")).not.toHaveProperty("refused");
    await appendN("Legacy", 6, 300);
    const legacy = await box("Legacy");
    await store.remove(legacy.id, [2, 5]);
    // An expunge history lost (as for folders older than the count): gaps the history does not name.
    await infra.pool.query("DELETE FROM mailbox_expunges WHERE mailbox_id = $1 AND uid = 5", [legacy.id]);
    expect(await expectSnapshot("Legacy")).toEqual([1, 3, 4, 6]);
    // A stray expunge row for a UID that is present (the leftover migration 028 deletes) is caught, too.
    await infra.pool.query("DELETE FROM mailbox_expunges WHERE mailbox_id = $1", [legacy.id]);
    await infra.pool.query("INSERT INTO mailbox_expunges (mailbox_id, uid, modseq) VALUES ($1, 3, 1), ($1, 2, 1), ($1, 5, 1)", [legacy.id]);
    expect(await expectSnapshot("Legacy")).toEqual([1, 3, 4, 6]);
  });

  it("is right for a folder that lost more messages than it holds", async () => {
    expect(await store.createMailbox(accountId, "Bin")).not.toHaveProperty("refused");
    const uids = await appendN("Bin", 9, 400);
    const trash = await box("Bin");
    await store.remove(trash.id, uids.slice(0, 7));
    expect(await expectSnapshot("Bin")).toEqual(uids.slice(7));
    // Without its expunge history, too.
    await infra.pool.query("DELETE FROM mailbox_expunges WHERE mailbox_id = $1", [trash.id]);
    expect(await expectSnapshot("Bin")).toEqual(uids.slice(7));
  });

  it("reports UIDNEXT and HIGHESTMODSEQ from the same snapshot as the UIDs", async () => {
    const stale = await box("INBOX");
    await appendN("INBOX", 1, 500);
    const snap = await store.snapshot(stale);
    expect(snap.uidNext).toBe(stale.uidNext + 1);
    expect(snap.highestModseq).toBeGreaterThan(stale.highestModseq);
    expect(snap.uids[snap.uids.length - 1]).toBe(stale.uidNext);
  });
});
