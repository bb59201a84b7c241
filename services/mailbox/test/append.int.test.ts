import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import type { Pool } from "@correo/db";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { acceptMessage, blobIdOf, Outbox, systemClock, type Clock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryLocal } from "@correo/contracts";
import { deliverLocal, type MailboxDeps } from "../src/deliver.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;

beforeAll(async () => {
  infra = await isolatedInfra("mailbox-append");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  outbox = new Outbox(infra.pool, broker, log);
  await addDomain(infra.pool, "example.test");
});
afterAll(async () => {
  await broker.close();
  await infra.cleanup();
});

const deps = (extra: Partial<MailboxDeps> = {}): MailboxDeps => ({ pool: infra.pool, outbox, clock: systemClock, log, ...extra });

/** Accepts `raw` for `recipient` as the submission service does, and returns its delivery.local event. */
async function accepted(raw: string, recipient: string, accountId: number, headerMessageId?: string): Promise<DeliveryLocal> {
  const a = await acceptMessage(
    infra.pool,
    outbox,
    { raw: Buffer.from(raw), envelopeFrom: "bob@remote.test", recipients: [recipient], source: "smtp", headerMessageId },
    { clock: systemClock, redriveAfterMs: 60_000 },
  );
  return { type: "delivery.local", version: 1, messageId: a.messageId, deliveryId: a.deliveries[0]!.deliveryId, blobId: a.blobId, recipient, accountId, mailbox: "INBOX" };
}

/** The same message as a client sends it again: only the Received: field its server adds differs. */
function sent(messageId: string, body: string, hop: string): string {
  return `Received: from client.remote.test by mx.example.test with ESMTP id ${hop}\r\n\tfor <x>; Tue, 1 Dec 2026 23:00:0${hop.length % 10} +0000\r\nFrom: bob@remote.test\r\nTo: x@example.test\r\nSubject: twice\r\nMessage-ID: ${messageId}\r\n\r\n${body}\r\n`;
}

async function stored(accountId: number): Promise<number> {
  const { rows } = await infra.pool.query(
    "SELECT count(*)::int AS n FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.account_id = $1",
    [accountId],
  );
  return rows[0].n;
}

async function lastEvent(deliveryId: string): Promise<{ state: string; detail: string }> {
  const { rows } = await infra.pool.query(
    `SELECT d.state, e.detail FROM deliveries d JOIN delivery_events e ON e.delivery_id = d.id
      WHERE d.id = $1 ORDER BY e.id DESC LIMIT 1`,
    [deliveryId],
  );
  return rows[0];
}

describe("duplicate suppression (the RFC 1047 window)", () => {
  it("records a second delivery of the same message (another Received:) as a duplicate and stores it once", async () => {
    const acct = await addAccount(infra.pool, "twice@example.test", "correct horse");
    const first = await accepted(sent("<m1@remote.test>", "same body", "A1"), "twice@example.test", acct.id, "<m1@remote.test>");
    const again = await accepted(sent("<m1@remote.test>", "same body", "B22"), "twice@example.test", acct.id, "<m1@remote.test>");
    expect(again.blobId).not.toBe(first.blobId);
    await deliverLocal(deps(), first);
    await deliverLocal(deps(), again);
    expect(await stored(acct.id)).toBe(1);
    expect(await lastEvent(first.deliveryId)).toEqual({ state: "delivered", detail: "stored in INBOX as UID 1" });
    const dup = await lastEvent(again.deliveryId);
    expect(dup.state).toBe("delivered");
    expect(dup.detail).toMatch(new RegExp(`^duplicate of delivery ${first.deliveryId} .*, stored in INBOX as UID 1; not stored again$`));
    // A redelivered event of the duplicate changes nothing.
    await deliverLocal(deps(), again);
    expect(await stored(acct.id)).toBe(1);
  });

  it("keeps exactly one copy when both deliveries run at the same time", async () => {
    const acct = await addAccount(infra.pool, "race@example.test", "correct horse");
    const events = await Promise.all(
      ["A1", "B22", "C333", "D4444"].map((hop) => accepted(sent("<race@remote.test>", "raced", hop), "race@example.test", acct.id, "<race@remote.test>")),
    );
    await Promise.all(events.map((e) => deliverLocal(deps(), e)));
    expect(await stored(acct.id)).toBe(1);
    const states = await Promise.all(events.map((e) => lastEvent(e.deliveryId)));
    expect(states.every((s) => s.state === "delivered")).toBe(true);
    expect(states.filter((s) => s.detail.startsWith("duplicate of delivery"))).toHaveLength(3);
  });

  it("stores a message with the same Message-ID and another body, one for another account, and one after the window", async () => {
    const acct = await addAccount(infra.pool, "window@example.test", "correct horse");
    const other = await addAccount(infra.pool, "window2@example.test", "correct horse");
    await deliverLocal(deps(), await accepted(sent("<w@remote.test>", "body one", "A1"), "window@example.test", acct.id, "<w@remote.test>"));
    await deliverLocal(deps(), await accepted(sent("<w@remote.test>", "body two", "A1"), "window@example.test", acct.id, "<w@remote.test>"));
    await deliverLocal(deps(), await accepted(sent("<w@remote.test>", "body one", "A1"), "window2@example.test", other.id, "<w@remote.test>"));
    expect(await stored(acct.id)).toBe(2);
    expect(await stored(other.id)).toBe(1);
    const later: Clock = { now: () => new Date(Date.now() + 25 * 3_600_000) };
    await deliverLocal(deps({ clock: later }), await accepted(sent("<w@remote.test>", "body one", "B22"), "window@example.test", acct.id, "<w@remote.test>"));
    expect(await stored(acct.id)).toBe(3);
  });

  it("stores every copy when switched off (MAILBOX_DUPLICATE_WINDOW=off)", async () => {
    const acct = await addAccount(infra.pool, "off@example.test", "correct horse");
    for (const hop of ["A1", "B22"]) {
      await deliverLocal(deps({ duplicateWindowMs: null }), await accepted(sent("<off@remote.test>", "same", hop), "off@example.test", acct.id, "<off@remote.test>"));
    }
    expect(await stored(acct.id)).toBe(2);
  });
});

describe("quota usage as a counter", () => {
  it("follows deliveries, APPEND, COPY, MOVE, EXPUNGE and RENAME INBOX, and equals the sum of the messages' sizes", async () => {
    const acct = await addAccount(infra.pool, "counter@example.test", "correct horse");
    const store = new MailStore({ pool: infra.pool, changes: outbox });
    for (let i = 0; i < 3; i++) await deliverLocal(deps(), await accepted(`Subject: n${i}\r\n\r\n${"x".repeat(100 * (i + 1))}\r\n`, "counter@example.test", acct.id));
    await store.append(acct.id, "Drafts", Buffer.from("Subject: draft\r\n\r\nhello\r\n"), { flags: ["\\Draft"] });
    const inbox = (await store.findMailbox(acct.id, "INBOX"))!;
    await store.copy(acct.id, inbox.id, [1, 2], "Junk");
    await store.move(acct.id, inbox.id, [3], "Trash");
    const junk = (await store.findMailbox(acct.id, "Junk"))!;
    await store.remove(junk.id, [1]);
    // RFC 3501 §6.3.5: renaming INBOX moves its messages (and their bytes) to a new folder.
    await store.renameMailbox(acct.id, "INBOX", "Old");
    const { rows } = await infra.pool.query(
      `SELECT m.name, m.used_bytes::int AS counted, coalesce((SELECT sum(size) FROM mailbox_messages WHERE mailbox_id = m.id), 0)::int AS actual
         FROM mailboxes m WHERE m.account_id = $1 ORDER BY m.name`,
      [acct.id],
    );
    for (const r of rows) expect(r.counted, r.name).toBe(r.actual);
    expect(rows.reduce((n: number, r: { actual: number }) => n + r.actual, 0)).toBeGreaterThan(0);
    expect((await store.quota(acct.id)).usedBytes).toBe(rows.reduce((n: number, r: { actual: number }) => n + r.actual, 0));
  });
});

describe("APPEND through the same append", () => {
  it("refuses an APPEND over the quota with over-quota, writing neither a message, a blob nor usage", async () => {
    const acct = await addAccount(infra.pool, "appendq@example.test", "correct horse");
    const store = new MailStore({ pool: infra.pool, changes: outbox });
    const first = Buffer.from("Subject: fits\r\n\r\n" + "a".repeat(200) + "\r\n");
    await infra.pool.query("UPDATE accounts SET quota_bytes = $2 WHERE id = $1", [acct.id, first.length + 50]);
    expect(await store.append(acct.id, "Drafts", first)).toMatchObject({ uid: 1 });
    const second = Buffer.from("Subject: too much\r\n\r\n" + "b".repeat(200) + "\r\n");
    expect(await store.append(acct.id, "INBOX", second)).toEqual({ refused: "over-quota", text: "the account's storage quota would be exceeded" });
    expect(await store.append(acct.id, "Nope", second)).toEqual({ refused: "nonexistent", text: "mailbox Nope does not exist" });
    expect(await stored(acct.id)).toBe(1);
    expect((await store.quota(acct.id)).usedBytes).toBe(first.length);
    expect((await infra.pool.query("SELECT 1 FROM blobs WHERE id = $1", [blobIdOf(second)])).rowCount).toBe(0);
  });
});

describe("the cost of an append", () => {
  /** Records the statements a delivery sends, to ask PostgreSQL how it would run them. */
  function recording(pool: Pool): { pool: Pool; statements: { text: string; values: unknown[] }[] } {
    const statements: { text: string; values: unknown[] }[] = [];
    const record = (q: string | { text: string; values?: unknown[] }, values?: unknown[]) =>
      statements.push(typeof q === "string" ? { text: q, values: values ?? [] } : { text: q.text, values: q.values ?? [] });
    const wrapped = new Proxy(pool, {
      get(target, prop, receiver) {
        if (prop === "query") {
          return (q: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
            record(q, values);
            return target.query(q as string, values);
          };
        }
        if (prop === "connect") {
          // Statements sent on a checked-out client (a transaction) count too.
          return async () => {
            const client = await target.connect();
            const query = client.query;
            const release = client.release;
            const send = query.bind(client) as (q: unknown, values?: unknown[]) => Promise<unknown>;
            client.query = ((q: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
              record(q, values);
              return send(q, values);
            }) as typeof client.query;
            client.release = ((err?: Error | boolean) => {
              client.query = query;
              client.release = release;
              return release.call(client, err);
            }) as typeof client.release;
            return client;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    return { pool: wrapped, statements };
  }

  interface PlanNode { "Node Type": string; "Relation Name"?: string; "Plan Rows": number; Plans?: PlanNode[] }
  function* nodes(plan: PlanNode): Generator<PlanNode> {
    yield plan;
    for (const p of plan.Plans ?? []) yield* nodes(p);
  }

  it("reads no more than a few rows of a folder of 200 000 messages, with a quota or without", async () => {
    const acct = await addAccount(infra.pool, "big@example.test", "correct horse");
    const inbox = (await infra.pool.query("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [acct.id])).rows[0].id;
    const seed = await accepted("Subject: seed\r\n\r\nseed\r\n", "big@example.test", acct.id);
    await infra.pool.query(
      `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, size, modseq)
       SELECT $1, g, $2, 100, g FROM generate_series(1, 200000) g`,
      [inbox, seed.blobId],
    );
    await infra.pool.query("UPDATE mailboxes SET uid_next = 200001, highest_modseq = 200001 WHERE id = $1", [inbox]);
    await infra.pool.query("ANALYZE mailbox_messages");
    await infra.pool.query("ANALYZE mailboxes");
    for (const quota of [null, 1_000_000_000]) {
      await infra.pool.query("UPDATE accounts SET quota_bytes = $2 WHERE id = $1", [acct.id, quota]);
      const event = await accepted(`Subject: one more ${quota}\r\n\r\nbody\r\n`, "big@example.test", acct.id, `<big-${quota}@remote.test>`);
      const rec = recording(infra.pool);
      // EXPLAIN first (the statements as a delivery sends them), then really deliver.
      await deliverLocal({ ...deps(), pool: rec.pool }, event);
      expect(rec.statements.map((s) => s.text.trim().split(/\s+/)[0])).toEqual(["SELECT", "WITH"]);
      for (const s of rec.statements) {
        const client = await infra.pool.connect();
        try {
          await client.query("BEGIN");
          const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${s.text}`, s.values);
          await client.query("ROLLBACK");
          const root = (rows[0]["QUERY PLAN"] as { Plan: PlanNode }[])[0]!.Plan;
          for (const n of nodes(root)) {
            if (n["Relation Name"] === "mailbox_messages") {
              expect(n["Node Type"], s.text).not.toMatch(/Seq Scan|Bitmap/);
              expect(n["Plan Rows"], s.text).toBeLessThanOrEqual(5);
            }
            expect(n["Node Type"] === "Aggregate" && [...nodes(n)].some((c) => c["Relation Name"] === "mailbox_messages"), s.text).toBe(false);
          }
        } finally {
          client.release();
        }
      }
      expect((await lastEvent(event.deliveryId)).detail).toMatch(/^stored in INBOX as UID 2000\d\d$/);
    }
  });
});
