import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import type { AnyEvent } from "@correo/contracts";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { acceptInTransaction, Outbox, systemClock, transition, transitionAndAnnounce } from "../src/index.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;

beforeAll(async () => {
  infra = await isolatedInfra("spool-announce");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  outbox = new Outbox(infra.pool, broker, log);
});
afterAll(async () => {
  await broker.close();
  await infra.cleanup();
});

async function accept(recipients: string[]) {
  const raw = Buffer.from(`Subject: ${Math.random()}\r\n\r\nx\r\n`);
  const a = await acceptInTransaction(infra.pool, outbox, { raw, envelopeFrom: "a@example.test", recipients, source: "http" }, { clock: systemClock, redriveAfterMs: 60_000 });
  await infra.pool.query("DELETE FROM outbox WHERE id = $1", [a.pending.id]);
  return a;
}

const local = (messageId: string, blobId: string, deliveryId: string, recipient: string): AnyEvent => ({
  type: "delivery.local",
  version: 1,
  messageId,
  deliveryId,
  blobId,
  recipient,
  accountId: 1,
  mailbox: "INBOX",
});

describe("transitionAndAnnounce", () => {
  it("moves every delivery and writes every event in one statement, in order", async () => {
    const a = await accept(["x@example.test", "y@example.test"]);
    const [x, y] = a.deliveries;
    const at = new Date();
    const nextAttemptAt = new Date(at.getTime() + 60_000);
    const pending = await transitionAndAnnounce(
      infra.pool,
      outbox,
      [x!, y!].map((d) => ({ deliveryId: d.deliveryId, state: "routed", event: "routed", route: "local", at, nextAttemptAt, expectedState: "queued" })),
      [x!, y!].map((d) => ({ event: local(a.messageId, a.blobId, d.deliveryId, d.recipient), guard: [d.deliveryId] })),
    );
    expect(pending.map((p) => JSON.parse(p.body.toString()).deliveryId)).toEqual([x!.deliveryId, y!.deliveryId]);
    const { rows } = await infra.pool.query("SELECT id, payload->>'deliveryId' AS delivery FROM outbox WHERE id = ANY($1) ORDER BY id", [pending.map((p) => p.id)]);
    expect(rows.map((r) => [r.id, r.delivery])).toEqual(pending.map((p) => [p.id, JSON.parse(p.body.toString()).deliveryId]));
    const { rows: states } = await infra.pool.query("SELECT state FROM deliveries WHERE message_id = $1", [a.messageId]);
    expect(states.map((r) => r.state)).toEqual(["routed", "routed"]);
  });

  it("leaves a delivery another process moved meanwhile alone, and does not announce it", async () => {
    const a = await accept(["gone@example.test", "kept@example.test"]);
    const [gone, kept] = a.deliveries;
    // Another routing copy bounced it after this one read it as queued.
    await transition(infra.pool, gone!.deliveryId, { state: "bounced", event: "bounced", at: new Date(), response: "550 5.1.1 gone" });
    const at = new Date();
    const nextAttemptAt = new Date(at.getTime() + 60_000);
    const pending = await transitionAndAnnounce(
      infra.pool,
      outbox,
      [gone!, kept!].map((d) => ({ deliveryId: d.deliveryId, state: "routed", event: "routed", route: "local", at, nextAttemptAt, expectedState: "queued" })),
      [gone!, kept!].map((d) => ({ event: local(a.messageId, a.blobId, d.deliveryId, d.recipient), guard: [d.deliveryId] })),
    );
    expect(pending.map((p) => JSON.parse(p.body.toString()).deliveryId)).toEqual([kept!.deliveryId]);
    const { rows } = await infra.pool.query("SELECT count(*)::int AS n FROM delivery_events WHERE delivery_id = $1 AND event = 'routed'", [gone!.deliveryId]);
    expect(rows[0].n).toBe(0);
    expect((await infra.pool.query("SELECT state FROM deliveries WHERE id = $1", [gone!.deliveryId])).rows[0].state).toBe("bounced");
  });
});
