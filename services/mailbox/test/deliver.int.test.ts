import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { addAccount, addDomain, setAccountEnabled, setQuota } from "@correo/directory";
import { acceptMessage, Outbox, systemClock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryLocal } from "@correo/contracts";
import { deliverLocal } from "../src/deliver.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let accountId: number;

async function acceptedFor(recipient: string, n = 1): Promise<DeliveryLocal[]> {
  const out: DeliveryLocal[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(`Subject: message ${i} ${Math.random()}\r\n\r\nbody ${i}\r\n`);
    const a = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom: "a@example.test", recipients: [recipient], source: "http" }, { clock: systemClock, redriveAfterMs: 60_000 });
    out.push({
      type: "delivery.local",
      version: 1,
      messageId: a.messageId,
      deliveryId: a.deliveries[0]!.deliveryId,
      blobId: a.blobId,
      recipient,
      accountId,
      mailbox: "INBOX",
    });
  }
  return out;
}

beforeAll(async () => {
  infra = await isolatedInfra("mailbox");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  outbox = new Outbox(infra.pool, broker, log);
  await addDomain(infra.pool, "example.test");
  accountId = (await addAccount(infra.pool, "bob@example.test", "correct horse")).id;
});
afterAll(async () => {
  await broker.close();
  await infra.cleanup();
});

describe("deliverLocal", () => {
  it("stores a delivery once, however often its event arrives", async () => {
    const [event] = await acceptedFor("bob@example.test");
    const deps = { pool: infra.pool, outbox, clock: systemClock, log };
    await deliverLocal(deps, event!);
    await deliverLocal(deps, event!);
    await Promise.all([deliverLocal(deps, event!), deliverLocal(deps, event!)]);
    const { rows } = await infra.pool.query("SELECT uid FROM mailbox_messages WHERE delivery_id = $1", [event!.deliveryId]);
    expect(rows).toHaveLength(1);
    const d = await infra.pool.query("SELECT state, last_response FROM deliveries WHERE id = $1", [event!.deliveryId]);
    expect(d.rows[0]).toEqual({ state: "delivered", last_response: `stored in INBOX as UID ${rows[0].uid}` });
    const events = await infra.pool.query("SELECT event FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [event!.deliveryId]);
    expect(events.rows.map((r) => r.event)).toEqual(["accepted", "delivered"]);
  });

  it("gives concurrent deliveries to one mailbox strictly increasing UIDs, without gaps or repeats", async () => {
    const events = await acceptedFor("bob@example.test", 30);
    const deps = { pool: infra.pool, outbox, clock: systemClock, log };
    const before = await infra.pool.query<{ uid_next: number; highest_modseq: number }>(
      "SELECT uid_next, highest_modseq FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'",
      [accountId],
    );
    await Promise.all(events.map((e) => deliverLocal(deps, e)));
    const { rows } = await infra.pool.query<{ uid: number; modseq: number }>(
      `SELECT uid, modseq FROM mailbox_messages m JOIN mailboxes b ON b.id = m.mailbox_id
        WHERE b.account_id = $1 AND m.delivery_id = ANY($2::uuid[]) ORDER BY uid`,
      [accountId, events.map((e) => e.deliveryId)],
    );
    const start = before.rows[0]!.uid_next;
    expect(rows.map((r) => r.uid)).toEqual(Array.from({ length: 30 }, (_, i) => start + i));
    expect(new Set(rows.map((r) => r.modseq)).size).toBe(30);
    const after = await infra.pool.query("SELECT uid_next FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [accountId]);
    expect(after.rows[0].uid_next).toBe(start + 30);
  });

  it("fails, changing nothing, when the account has no such mailbox", async () => {
    const [event] = await acceptedFor("bob@example.test");
    await expect(deliverLocal({ pool: infra.pool, outbox, clock: systemClock, log }, { ...event!, mailbox: "Nope" })).rejects.toThrow(/no mailbox Nope/);
    const d = await infra.pool.query("SELECT state FROM deliveries WHERE id = $1", [event!.deliveryId]);
    expect(d.rows[0].state).toBe("queued");
  });

  it("defers a delivery that would pass the account's quota with 452 4.2.2, and stores it once there is room", async () => {
    const full = await addAccount(infra.pool, "full@example.test", "correct horse");
    const deps = { pool: infra.pool, outbox, clock: systemClock, log };
    const [first] = await acceptedFor("full@example.test");
    const size = (await infra.pool.query("SELECT size FROM messages WHERE id = $1", [first!.messageId])).rows[0].size as number;
    await setQuota(infra.pool, "full@example.test", size + 10);
    await deliverLocal(deps, { ...first!, accountId: full.id });
    const [second] = await acceptedFor("full@example.test");
    const event = { ...second!, accountId: full.id };
    await deliverLocal(deps, event);
    const d = await infra.pool.query("SELECT state, last_response, next_attempt_at FROM deliveries WHERE id = $1", [event.deliveryId]);
    expect(d.rows[0].state).toBe("routed");
    expect(d.rows[0].last_response).toMatch(/^452 4\.2\.2 <full@example\.test>: mailbox full/);
    expect(d.rows[0].next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    expect((await infra.pool.query("SELECT 1 FROM mailbox_messages WHERE delivery_id = $1", [event.deliveryId])).rowCount).toBe(0);
    const events = await infra.pool.query("SELECT event FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [event.deliveryId]);
    expect(events.rows.map((r) => r.event)).toEqual(["accepted", "deferred"]);
    // The owner makes room (a bigger quota); the re-driven event is stored.
    await setQuota(infra.pool, "full@example.test", null);
    await deliverLocal(deps, event);
    expect((await infra.pool.query("SELECT state FROM deliveries WHERE id = $1", [event.deliveryId])).rows[0].state).toBe("delivered");
  });

  it("bounces a delivery to a disabled account with 550 5.2.1 and stores nothing", async () => {
    const off = await addAccount(infra.pool, "off@example.test", "correct horse");
    await setAccountEnabled(infra.pool, "off@example.test", false);
    const [event] = await acceptedFor("off@example.test");
    await deliverLocal({ pool: infra.pool, outbox, clock: systemClock, log }, { ...event!, accountId: off.id });
    const d = await infra.pool.query("SELECT state, last_response FROM deliveries WHERE id = $1", [event!.deliveryId]);
    expect(d.rows[0]).toEqual({ state: "bounced", last_response: "550 5.2.1 <off@example.test>: mailbox disabled" });
    expect((await infra.pool.query("SELECT 1 FROM mailbox_messages WHERE delivery_id = $1", [event!.deliveryId])).rowCount).toBe(0);
  });
});
