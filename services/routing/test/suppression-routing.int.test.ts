import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { addAccount, addDomain } from "@correo/directory";
import { acceptMessage, Outbox, systemClock, type Submission } from "@correo/spool";
import { findSuppression } from "@correo/suppression";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryLocal, DeliveryRemote, MessageSubmitted } from "@correo/contracts";
import { routeMessage, type RouterDeps } from "../src/route-message.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let deps: RouterDeps;
const published: (DeliveryLocal | DeliveryRemote)[] = [];
const arf = readFileSync(join(__dirname, "..", "..", "..", "packages", "suppression", "test", "fixtures", "arf-abuse.eml"));

async function submit(sub: Omit<Submission, "source"> & { source?: Submission["source"] }): Promise<MessageSubmitted> {
  const a = await acceptMessage(infra.pool, outbox, { source: "http", ...sub }, { clock: systemClock, redriveAfterMs: 60_000 });
  return { type: "message.submitted", version: 1, messageId: a.messageId, blobId: a.blobId, envelopeFrom: sub.envelopeFrom, deliveries: a.deliveries, submittedAt: new Date().toISOString() };
}

async function timeline(deliveryId: string) {
  const { rows } = await infra.pool.query<{ event: string; detail: string | null }>("SELECT event, detail FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [deliveryId]);
  return rows;
}

beforeAll(async () => {
  infra = await isolatedInfra("routing_suppress");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  await broker.consume("mailbox", ["delivery.local"], async (e) => void published.push(e));
  await broker.consume("relay-queue", ["delivery.remote"], async (e) => void published.push(e));
  outbox = new Outbox(infra.pool, broker, log);
  deps = {
    pool: infra.pool,
    outbox,
    clock: systemClock,
    redriveAfterMs: 60_000,
    // No DNS here: a test-mode message must never ask for a route.
    route: async (domain) => {
      throw new Error(`unexpected route lookup of ${domain}`);
    },
    deferral: { minBackoffMs: 60_000, maxBackoffMs: 3_600_000, maxLifetimeMs: 86_400_000 },
    random: () => 0.5,
    complaintsAddress: "fbl@example.test",
    log,
  };
  await addDomain(infra.pool, "example.test");
  await addAccount(infra.pool, "fbl@example.test", "correct horse");
  await addAccount(infra.pool, "ana@example.test", "correct horse");
});
afterAll(async () => {
  await broker?.close();
  await infra?.cleanup();
});

describe("test mode", () => {
  it("records every recipient delivered with a test-mode detail and hands nothing to the relay or the mailbox", async () => {
    const raw = Buffer.from("From: a@example.test\r\nSubject: t\r\n\r\nx\r\n");
    const event = await submit({ raw, envelopeFrom: "a@example.test", recipients: ["x@remote.test", "ana@example.test"], test: true, sendingDomain: "example.test" });
    await routeMessage(deps, event);
    for (const d of event.deliveries) {
      const events = await timeline(d.deliveryId);
      expect(events.map((e) => e.event)).toEqual(["accepted", "delivered"]);
      expect(events[1]!.detail).toContain("test mode");
    }
    // A real message routed afterwards is published; the test one never was.
    const real = await submit({ raw, envelopeFrom: "a@example.test", recipients: ["ana@example.test"] });
    await routeMessage(deps, real);
    await eventually(async () => published.some((e) => e.messageId === real.messageId), 10_000);
    expect(published.filter((e) => e.messageId === event.messageId)).toEqual([]);
  });
});

describe("complaints at COMPLAINTS_ADDRESS", () => {
  it("adds a 'complained' row to the original delivery and suppresses its recipient, once, and keeps the report in the mailbox", async () => {
    // The original: sent by example.test to carol@remote.example, with the Received: id the report returns.
    const original = await submit({
      messageId: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      raw: Buffer.from("From: sender@example.test\r\nTo: carol@remote.example\r\nSubject: Earn money\r\n\r\nSpam\r\n"),
      envelopeFrom: "sender@example.test",
      recipients: ["carol@remote.example"],
      headerMessageId: "<1b4e28ba-2fa1-11d2-883f-0016d3cca427@mail.example.test>",
      sendingDomain: "example.test",
    });
    const report = await submit({ raw: arf, envelopeFrom: "abuse@isp.example", recipients: ["fbl@example.test"], source: "smtp" });
    await routeMessage(deps, report);
    const carol = original.deliveries[0]!.deliveryId;
    const events = await timeline(carol);
    expect(events.map((e) => e.event)).toEqual(["accepted", "complained"]);
    expect(events[1]!.detail).toBe("ARF report (RFC 5965): feedback-type=abuse, user-agent=SomeGenerator/1.0, reporting-mta=dns; mail.isp.example, arrival-date=Thu, 8 Mar 2005 14:00:00 EDT");
    expect(await findSuppression(infra.pool, "example.test", "carol@remote.example")).toMatchObject({ reason: "complaint", messageId: original.messageId });
    // The report itself goes on to fbl@'s mailbox.
    const local = await eventually(async () => published.find((e) => e.messageId === report.messageId), 10_000);
    expect(local).toMatchObject({ type: "delivery.local", recipient: "fbl@example.test" });

    // The same report again (another copy sent it twice): no second row.
    const again = await submit({ raw: arf, envelopeFrom: "abuse@isp.example", recipients: ["fbl@example.test"], source: "smtp" });
    await routeMessage(deps, again);
    expect((await timeline(carol)).filter((e) => e.event === "complained")).toHaveLength(1);
  });

  it("routes a message to the complaints address that is no report as ordinary mail, recording nothing", async () => {
    const before = await infra.pool.query("SELECT count(*)::int AS n FROM suppressions");
    const plain = await submit({ raw: Buffer.from("From: x@y.example\r\nSubject: hi\r\n\r\nhello\r\n"), envelopeFrom: "x@y.example", recipients: ["fbl@example.test"], source: "smtp" });
    await routeMessage(deps, plain);
    await eventually(async () => published.some((e) => e.messageId === plain.messageId), 10_000);
    expect((await infra.pool.query("SELECT count(*)::int AS n FROM suppressions")).rows).toEqual(before.rows);
  });
});
