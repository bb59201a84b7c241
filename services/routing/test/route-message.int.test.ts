import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { addAccount, addDomain } from "@correo/directory";
import { acceptMessage, Outbox, systemClock, type Clock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryLocal, DeliveryRemote, MessageSubmitted } from "@correo/contracts";
import { routeMessage } from "../src/route-message.js";
import { redriveOverdue } from "../src/redrive.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
const published: (DeliveryLocal | DeliveryRemote)[] = [];

async function submit(recipients: string[]): Promise<MessageSubmitted> {
  const raw = Buffer.from(`Subject: ${Math.random()}\r\n\r\nx\r\n`);
  const a = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom: "alice@example.test", recipients, source: "http" }, { clock: systemClock, redriveAfterMs: 60_000 });
  return { type: "message.submitted", version: 1, messageId: a.messageId, blobId: a.blobId, envelopeFrom: "alice@example.test", deliveries: a.deliveries, submittedAt: new Date().toISOString() };
}

beforeAll(async () => {
  infra = await isolatedInfra("routing");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  await broker.consume("mailbox", ["delivery.local"], async (e) => void published.push(e));
  await broker.consume("relay-queue", ["delivery.remote"], async (e) => void published.push(e));
  outbox = new Outbox(infra.pool, broker, log);
  await addDomain(infra.pool, "example.test");
  await addAccount(infra.pool, "Bob@example.test", "correct horse");
});
afterAll(async () => {
  await broker.close();
  await infra.cleanup();
});

describe("routeMessage", () => {
  it("sends hosted recipients to their mailbox, bounces unknown ones, and groups remote ones per domain", async () => {
    const event = await submit(["bob@EXAMPLE.test", "nobody@example.test", "x@remote.test", "y@remote.test", "z@other.test"]);
    await routeMessage({ pool: infra.pool, outbox, clock: systemClock, redriveAfterMs: 60_000, log }, event);
    const { rows } = await infra.pool.query("SELECT recipient, state, route, last_response FROM deliveries WHERE message_id = $1 ORDER BY recipient", [event.messageId]);
    expect(rows).toEqual([
      { recipient: "bob@EXAMPLE.test", state: "routed", route: "local", last_response: expect.stringMatching(/^local mailbox INBOX/) },
      { recipient: "nobody@example.test", state: "bounced", route: null, last_response: "550 5.1.1 <nobody@example.test>: no such mailbox here" },
      { recipient: "x@remote.test", state: "routed", route: "remote", last_response: "remote domain remote.test" },
      { recipient: "y@remote.test", state: "routed", route: "remote", last_response: "remote domain remote.test" },
      { recipient: "z@other.test", state: "routed", route: "remote", last_response: "remote domain other.test" },
    ]);
    const mine = await eventually(async () => {
      const m = published.filter((e) => e.messageId === event.messageId);
      return m.length === 3 ? m : undefined;
    }, 10_000);
    const remote = mine.filter((e) => e.type === "delivery.remote");
    expect(remote.map((e) => (e.type === "delivery.remote" ? [e.domain, e.deliveries.length] : [])).sort()).toEqual([["other.test", 1], ["remote.test", 2]]);
  });

  it("never moves a final delivery again when the event comes twice", async () => {
    const event = await submit(["nobody@example.test"]);
    const deps = { pool: infra.pool, outbox, clock: systemClock, redriveAfterMs: 60_000, log };
    await routeMessage(deps, event);
    await routeMessage(deps, event);
    const { rows } = await infra.pool.query("SELECT event FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [event.deliveries[0]!.deliveryId]);
    expect(rows.map((r) => r.event)).toEqual(["accepted", "bounced"]);
  });

  it("re-drives a delivery whose event was lost once its next action time has passed", async () => {
    const event = await submit(["bob@example.test"]); // accepted and announced; pretend routing never saw it
    const later: Clock = { now: () => new Date(Date.now() + 61_000) };
    const before = published.length;
    // The re-drive publishes message.submitted again; route it here as the routing consumer would.
    const redriven: MessageSubmitted[] = [];
    const spy = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
    await spy.connect();
    await spy.consume("routing", ["message.submitted"], async (e) => void redriven.push(e));
    const n = await redriveOverdue({ pool: infra.pool, broker, clock: later, log }, 60_000);
    expect(n).toBeGreaterThanOrEqual(1);
    const again = await eventually(async () => redriven.find((e) => e.messageId === event.messageId), 10_000);
    await routeMessage({ pool: infra.pool, outbox, clock: later, redriveAfterMs: 60_000, log }, again);
    await eventually(async () => published.slice(before).some((e) => e.messageId === event.messageId && e.type === "delivery.local"), 10_000);
    const { rows } = await infra.pool.query("SELECT next_attempt_at FROM deliveries WHERE id = $1", [event.deliveries[0]!.deliveryId]);
    expect(rows[0].next_attempt_at.getTime()).toBeGreaterThan(later.now().getTime());
    await spy.close();
  });
});
