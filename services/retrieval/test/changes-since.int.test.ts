import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailStore } from "@correo/mailstore";

let infra: IsolatedInfra;
let store: MailStore;
let accountId: number;

beforeAll(async () => {
  infra = await isolatedInfra("mailstore-changes");
  await addDomain(infra.pool, "changes.test");
  accountId = (await addAccount(infra.pool, "ana@changes.test", "long enough pass")).id;
  store = new MailStore({ pool: infra.pool });
});
afterAll(async () => {
  await infra?.cleanup();
});

const plain = (i: number) => Buffer.from(`From: bea@example.org\r\nTo: ana@changes.test\r\nSubject: ${i}\r\n\r\nbody ${i}\r\n`);

describe("the mailstore's changesSince (IMAP's view of new mail)", () => {
  it("never answers a HIGHESTMODSEQ past a change it did not return, while appends commit under it", async () => {
    const box = (await store.findMailbox(accountId, "INBOX"))!;
    const n = 150;
    // A session's loop: ask what changed since the last HIGHESTMODSEQ, move to the answer.
    const seen = new Set<number>();
    let known = 0;
    let appending = true;
    const poller = (async () => {
      while (appending) {
        const c = await store.changesSince(box.id, known);
        for (const u of c.upserts) seen.add(u.uid);
        known = Math.max(known, c.highestModseq);
      }
      const c = await store.changesSince(box.id, known);
      for (const u of c.upserts) seen.add(u.uid);
    })();
    const uids: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        for (let i = w; i < n; i += 6) {
          const r = await store.append(accountId, "INBOX", plain(i), { flags: [] });
          if ("uid" in r) uids.push(r.uid);
        }
      }),
    );
    appending = false;
    await poller;
    expect(uids).toHaveLength(n);
    // Every appended message was seen by the loop: none fell between a row query and a later HIGHESTMODSEQ.
    expect(uids.filter((u) => !seen.has(u))).toEqual([]);
  });
});
