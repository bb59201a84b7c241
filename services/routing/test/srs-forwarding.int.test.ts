import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { addAlias, addDomain, findTransport } from "@correo/directory";
import { createDns, resolveRoute } from "@correo/mx";
import { srsReverse, type SrsOptions } from "@correo/srs";
import { acceptMessage, Outbox, type Clock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryRemote, MessageSubmitted } from "@correo/contracts";
import { startDnsmasq, type Dnsmasq } from "../../../packages/mx/test/dnsmasq.js";
import { routeMessage, type RouterDeps } from "../src/route-message.js";

/**
 * Issue 14 item 3: an alias that forwards to an outside address sends the delivery with an
 * SRS envelope sender of SRS_DOMAIN, kept per delivery in the spool (migration 016) and
 * carried by its own delivery.remote event; the other deliveries keep the message's.
 */
const log = createLogger("test", "silent");
const now = new Date("2026-12-02T10:00:00Z");
const clock: Clock = { now: () => new Date(now) };
const srs: SrsOptions = { secrets: ["routing-test-secret"], domain: "hosted.test" };
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let dnsmasq: Dnsmasq;
let deps: RouterDeps;
const published: DeliveryRemote[] = [];

async function submit(envelopeFrom: string, recipients: string[]): Promise<MessageSubmitted> {
  const raw = Buffer.from(`From: <${envelopeFrom || "mailer-daemon@origin.test"}>\r\nSubject: ${Math.random()}\r\n\r\nx\r\n`);
  const a = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom, recipients, source: "smtp" }, { clock, redriveAfterMs: 60_000 });
  return { type: "message.submitted", version: 1, messageId: a.messageId, blobId: a.blobId, envelopeFrom, deliveries: a.deliveries, submittedAt: now.toISOString() };
}

async function rows(messageId: string) {
  const { rows } = await infra.pool.query<{ id: string; recipient: string; state: string; route: string | null; envelope_from: string | null }>(
    "SELECT id, recipient, state, route, envelope_from FROM deliveries WHERE message_id = $1 ORDER BY recipient",
    [messageId],
  );
  return rows;
}

const remoteEvents = (messageId: string, n: number) =>
  eventually(async () => {
    const mine = published.filter((e) => e.messageId === messageId);
    return mine.length >= n ? mine : undefined;
  }, 10_000);

beforeAll(async () => {
  infra = await isolatedInfra("routing-srs");
  dnsmasq = await startDnsmasq({ mx: { "partner.test": [["mx.partner.test", 5]] }, a: { "mx.partner.test": ["127.0.0.33"] } });
  const dns = createDns(dnsmasq.server, 2000);
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  await broker.consume("relay-queue", ["delivery.remote"], async (e) => void published.push(e));
  outbox = new Outbox(infra.pool, broker, log);
  deps = {
    pool: infra.pool,
    outbox,
    clock,
    redriveAfterMs: 60_000,
    route: (domain) => resolveRoute({ dns, findTransport: (d) => findTransport(infra.pool, d), smtpPort: 25 }, domain),
    deferral: { minBackoffMs: 60_000, maxBackoffMs: 3_600_000, maxLifetimeMs: 86_400_000 },
    random: () => 0.5,
    srs,
    log,
  };
  await addDomain(infra.pool, "hosted.test");
  await addDomain(infra.pool, "second.test");
  await addAlias(infra.pool, "fwd@hosted.test", ["ana@partner.test"]);
});
afterAll(async () => {
  await broker?.close();
  await dnsmasq?.stop();
  await infra?.cleanup();
});

describe("alias forwarding with SRS", () => {
  it("gives the forwarded delivery an SRS sender in the spool and its own delivery.remote, which reverses to the original sender", async () => {
    const event = await submit("Eva@Origin.test", ["fwd@hosted.test", "carl@partner.test"]);
    await routeMessage(deps, event);
    const spool = await rows(event.messageId);
    const forwarded = spool.find((r) => r.recipient === "ana@partner.test")!;
    expect(forwarded).toMatchObject({ state: "routed", route: "remote", envelope_from: expect.stringMatching(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=Origin\.test=Eva@hosted\.test$/) });
    // A direct recipient of the same domain keeps the message's sender: two transactions.
    expect(spool.find((r) => r.recipient === "carl@partner.test")).toMatchObject({ state: "routed", envelope_from: null });
    expect(srsReverse(forwarded.envelope_from!, srs, now)).toEqual({ ok: true, address: "Eva@Origin.test" });

    const events = await remoteEvents(event.messageId, 2);
    const byRecipient = Object.fromEntries(events.map((e) => [e.deliveries.map((d) => d.recipient).join(","), e.envelopeFrom]));
    expect(byRecipient).toEqual({ "ana@partner.test": forwarded.envelope_from, "carl@partner.test": "Eva@Origin.test" });
    const { rows: timeline } = await infra.pool.query("SELECT detail FROM delivery_events WHERE delivery_id = $1 AND event = 'accepted'", [forwarded.id]);
    expect(timeline[0].detail).toBe(`expanded from <fwd@hosted.test>; forwarded with envelope sender <${forwarded.envelope_from}> (SRS)`);
  });

  it("announces a forwarded delivery still routed again with the same SRS sender (the re-drive's pass)", async () => {
    const event = await submit("eva@origin.test", ["fwd@hosted.test"]);
    await routeMessage(deps, event);
    const first = (await rows(event.messageId)).find((r) => r.recipient === "ana@partner.test")!;
    // What the re-drive publishes for an overdue delivery: message.submitted naming it.
    await routeMessage(deps, { ...event, deliveries: [{ deliveryId: first.id, recipient: first.recipient }] });
    const events = await remoteEvents(event.messageId, 2);
    expect(events.map((e) => e.envelopeFrom)).toEqual([first.envelope_from, first.envelope_from]);
  });

  it.each([
    ["the null sender <> (a bounce stays a bounce)", ""],
    ["a sender of a hosted domain", "ana@second.test"],
    ["an address of the SRS domain itself", "SRS0=abcd=AB=origin.test=eva@hosted.test"],
  ])("keeps %s", async (_what, sender) => {
    const event = await submit(sender, ["fwd@hosted.test"]);
    await routeMessage(deps, event);
    expect((await rows(event.messageId)).find((r) => r.recipient === "ana@partner.test")).toMatchObject({ state: "routed", envelope_from: null });
    const [remote] = await remoteEvents(event.messageId, 1);
    expect(remote!.envelopeFrom).toBe(sender);
  });

  it("keeps the original sender while SRS is off", async () => {
    const event = await submit("eva@origin.test", ["fwd@hosted.test"]);
    await routeMessage({ ...deps, srs: undefined }, event);
    expect((await rows(event.messageId)).find((r) => r.recipient === "ana@partner.test")).toMatchObject({ envelope_from: null });
    const [remote] = await remoteEvents(event.messageId, 1);
    expect(remote!.envelopeFrom).toBe("eva@origin.test");
  });
});
