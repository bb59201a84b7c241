import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import Fastify, { type FastifyInstance } from "fastify";
import { simpleParser } from "mailparser";
import { Redis } from "ioredis";
import type { DeliveryInbound, DeliveryLocal } from "@correo/contracts";
import { addAccount, addDomain, addInboundRoute, type InboundRoute } from "@correo/directory";
import { verifySignature, SIGNATURE_HEADER } from "@correo/signed-post";
import { acceptMessage, getBlob, loadDeliveries, transition } from "@correo/spool";
import { eventually, freePort } from "@correo/testkit";
import { listQueue, retryNow } from "@correo/queue";
import { deliverInbound, type InboundDeps } from "../src/inbound/deliver-inbound.js";
import { sweepDsns } from "../src/dsn-sweeper.js";
import { RetrySchedule } from "../src/schedule.js";
import { HOUR, log, MINUTE, startWorld, type World } from "./relay-world.js";

/**
 * Inbound routes on the relay's schedule, on the test clock, against a real HTTP
 * receiver (fastify) that checks the Correo-Signature and answers what the test says:
 * 500 for a while and then 200; or 500 for ever, until the route's give-up time sends
 * the message to its fallback (a mailbox, or a bounce with a DSN to the sender).
 */
let world: World;
let redis: Redis;
let receiver: FastifyInstance;
let port: number;
/** What the receiver answers next (the last entry repeats). */
let answers: number[] = [];
const received: { body: any; raw: string; signature: string | undefined; valid: boolean }[] = [];

beforeAll(async () => {
  world = await startWorld("inbound-route");
  redis = new Redis(world.infra.redisUrl, { maxRetriesPerRequest: 1 });
  await addDomain(world.infra.pool, "in.correo.test");
  await addAccount(world.infra.pool, "helpdesk@in.correo.test", "long enough password");
  port = await freePort();
  receiver = Fastify();
  receiver.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
  receiver.post("/hook/:name", async (req, reply) => {
    const raw = req.body as string;
    const route = routes.get((req.params as { name: string }).name)!;
    const check = verifySignature(req.headers[SIGNATURE_HEADER] as string | undefined, route.secret, raw, world.clock.now());
    received.push({ body: JSON.parse(raw), raw, signature: req.headers[SIGNATURE_HEADER] as string | undefined, valid: check.valid });
    if (!check.valid) return reply.code(401).send({ error: "bad signature" });
    const status = answers.length > 1 ? answers.shift()! : (answers[0] ?? 200);
    return reply.code(status).send(status === 200 ? { ok: true } : { error: "endpoint is having a bad day" });
  });
  await receiver.listen({ host: "127.0.0.1", port });
  routes.set("support", await addInboundRoute(world.infra.pool, "in.correo.test", { pattern: "support@in.correo.test", url: `http://127.0.0.1:${port}/hook/support`, inlineLimitBytes: 64 }));
  routes.set("tickets", await addInboundRoute(world.infra.pool, "in.correo.test", {
    pattern: "*@tickets.in.correo.test",
    url: `http://127.0.0.1:${port}/hook/tickets`,
    giveUpAfterSeconds: 3600,
    fallback: "mailbox:helpdesk@in.correo.test",
  }));
  routes.set("gone", await addInboundRoute(world.infra.pool, "in.correo.test", {
    pattern: "noreply@in.correo.test",
    url: `http://127.0.0.1:${port}/hook/gone`,
    giveUpAfterSeconds: 3600,
  }));
});
afterAll(async () => {
  await receiver?.close();
  redis?.disconnect();
  await world?.close();
});
beforeEach(() => {
  received.length = 0;
});

const routes = new Map<string, InboundRoute>();

function deps(): InboundDeps {
  return {
    pool: world.infra.pool,
    outbox: world.outbox,
    clock: world.clock,
    schedule: new RetrySchedule(redis, world.infra.prefix),
    policy: { minBackoffMs: MINUTE, maxBackoffMs: HOUR },
    random: () => 0.5,
    publicUrl: "http://api.correo.test:8080",
    linkTtlMs: 7 * 24 * HOUR,
    postTimeoutMs: 5000,
    redriveAfterMs: 2 * MINUTE,
    log,
  };
}

const message = (to: string, extra = "") =>
  Buffer.from(
    "Authentication-Results: mx.correo.test; spf=pass smtp.mailfrom=ana@sender.test; dkim=none\r\n" +
      `From: Ana <ana@sender.test>\r\nTo: ${to}\r\nSubject: help please\r\nDate: Wed, 02 Dec 2026 09:00:00 +0000\r\n` +
      `Message-ID: <q1@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n` +
      `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy order is late.\r\n` +
      `--b\r\nContent-Type: text/plain; name="small.txt"\r\nContent-Disposition: attachment; filename="small.txt"\r\n\r\ntiny\r\n` +
      `--b\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Disposition: attachment; filename="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${Buffer.alloc(300, 7).toString("base64")}\r\n--b--\r\n${extra}`,
  );

/** Accepts a message from ana@sender.test and routes it `inbound` the way routing does. */
async function arrive(to: string, route: InboundRoute): Promise<DeliveryInbound> {
  const accepted = await acceptMessage(
    world.infra.pool,
    world.outbox,
    { raw: message(to), envelopeFrom: "ana@sender.test", recipients: [to], source: "smtp" },
    { clock: world.clock, redriveAfterMs: 2 * MINUTE },
  );
  const d = accepted.deliveries[0]!;
  await transition(world.infra.pool, d.deliveryId, {
    state: "routed", event: "routed", route: "inbound", at: world.clock.now(),
    nextAttemptAt: new Date(world.clock.t + 2 * MINUTE), response: `inbound route ${route.pattern}`,
  });
  return { type: "delivery.inbound", version: 1, messageId: accepted.messageId, deliveryId: d.deliveryId, blobId: accepted.blobId, envelopeFrom: "ana@sender.test", recipient: to, routeId: route.id };
}

const delivery = async (id: string) => (await loadDeliveries(world.infra.pool, [id]))[0]!;
const timeline = async (id: string) =>
  (await world.infra.pool.query<{ event: string; detail: string | null }>("SELECT event, detail FROM delivery_events WHERE delivery_id = $1 ORDER BY at, id", [id])).rows;

describe("an inbound route's endpoint", () => {
  it("gets the message as signed JSON: envelope, headers, text, Authentication-Results, attachments inline up to the limit and as signed links beyond", async () => {
    answers = [200];
    const event = await arrive("support@in.correo.test", routes.get("support")!);
    await deliverInbound(deps(), event);
    expect(received).toHaveLength(1);
    const { body, valid, signature } = received[0]!;
    expect(valid).toBe(true);
    expect(signature).toMatch(new RegExp(`^t=${Math.floor(world.clock.t / 1000)},v1=[0-9a-f]{64}$`));
    expect(body).toMatchObject({
      type: "inbound",
      message_id: event.messageId,
      delivery_id: event.deliveryId,
      route_id: routes.get("support")!.id,
      envelope: { mail_from: "ana@sender.test", rcpt_to: "support@in.correo.test" },
      header_message_id: "q1@sender.test",
      subject: "help please",
      from: "Ana <ana@sender.test>",
      authentication_results: "mx.correo.test; spf=pass smtp.mailfrom=ana@sender.test; dkim=none",
      text: "My order is late.",
      html: null,
    });
    expect(body.headers).toContainEqual(["Subject", "help please"]);
    const [small, big] = body.attachments;
    expect(small).toMatchObject({ index: 0, filename: "small.txt", size: 4, content: Buffer.from("tiny").toString("base64") });
    expect(big).toMatchObject({ index: 1, filename: "big.bin", size: 300, content_type: "application/octet-stream" });
    expect(big.content).toBeUndefined();
    expect(big.url).toMatch(
      new RegExp(`^http://api\\.correo\\.test:8080/v1/inbound-routes/${event.routeId}/deliveries/${event.deliveryId}/attachments/1\\?expires=\\d+&signature=[0-9a-f]{64}$`),
    );
    const d = await delivery(event.deliveryId);
    expect(d.state).toBe("delivered");
    expect(d.lastResponse).toBe(`HTTP 200 from http://127.0.0.1:${port}/hook/support: {"ok":true}`);
  });

  it("says null when the MX added no Authentication-Results", async () => {
    answers = [200];
    const accepted = await acceptMessage(
      world.infra.pool, world.outbox,
      { raw: Buffer.from("From: a@sender.test\r\nSubject: bare\r\n\r\nhi\r\n"), envelopeFrom: "", recipients: ["support@in.correo.test"], source: "smtp" },
      { clock: world.clock, redriveAfterMs: 2 * MINUTE },
    );
    const id = accepted.deliveries[0]!.deliveryId;
    await transition(world.infra.pool, id, { state: "routed", event: "routed", route: "inbound", at: world.clock.now(), nextAttemptAt: new Date(world.clock.t + MINUTE) });
    await deliverInbound(deps(), { type: "delivery.inbound", version: 1, messageId: accepted.messageId, deliveryId: id, blobId: accepted.blobId, envelopeFrom: "", recipient: "support@in.correo.test", routeId: routes.get("support")!.id });
    expect(received[0]!.body).toMatchObject({ authentication_results: null, envelope: { mail_from: "" }, attachments: [], header_message_id: null });
  });

  it("is retried on the relay's back-off while it answers 500 (deferred, next attempt set, in the schedule) and delivered on its first 200", async () => {
    answers = [500, 500, 200];
    const event = await arrive("support@in.correo.test", routes.get("support")!);
    const schedule = new RetrySchedule(redis, world.infra.prefix);
    await deliverInbound(deps(), event);
    let d = await delivery(event.deliveryId);
    expect(d).toMatchObject({ state: "deferred", attempts: 1 });
    expect(d.lastResponse).toMatch(/^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/hook\/support: \{"error":"endpoint is having a bad day"\}$/);
    const first = d.nextAttemptAt!.getTime() - world.clock.t;
    expect(first).toBeGreaterThanOrEqual(0.5 * MINUTE);
    expect(first).toBeLessThanOrEqual(1.5 * MINUTE);
    expect(await schedule.score(event.deliveryId)).toBe(d.nextAttemptAt!.getTime());

    // Not due yet: a redelivered event does not POST again.
    await deliverInbound(deps(), event);
    expect(received).toHaveLength(1);

    world.clock.t = d.nextAttemptAt!.getTime();
    await deliverInbound(deps(), event);
    d = await delivery(event.deliveryId);
    expect(d).toMatchObject({ state: "deferred", attempts: 2 });
    expect(d.nextAttemptAt!.getTime() - world.clock.t).toBeGreaterThan(first); // doubling

    // The relay's queue management sees it, and "retry now" makes it due at once.
    const queued = await listQueue(world.infra.pool, { domain: "in.correo.test" }, world.clock.now());
    expect(queued.map((q) => q.id)).toContain(event.deliveryId);
    expect(await retryNow(world.infra.pool, { deliveryId: event.deliveryId }, world.clock.now(), schedule)).toEqual([event.deliveryId]);
    expect(await schedule.score(event.deliveryId)).toBe(world.clock.t);
    await deliverInbound(deps(), event);
    d = await delivery(event.deliveryId);
    expect(d).toMatchObject({ state: "delivered", attempts: 3, nextAttemptAt: null });
    expect(received).toHaveLength(3);
    expect(received.every((r) => r.valid)).toBe(true);
    const events = await timeline(event.deliveryId);
    expect(events.map((e) => e.event)).toEqual(["accepted", "routed", "deferred", "deferred", "deferred", "delivered"]);
    expect(events[4]!.detail).toMatch(/administrator/); // the "retry now"
  });
});

describe("an endpoint that keeps failing past the route's give-up time", () => {
  it("falls back to the route's mailbox through the local path (routed local, delivery.local to the account)", async () => {
    answers = [503];
    const event = await arrive("order-17@tickets.in.correo.test", routes.get("tickets")!);
    const local: DeliveryLocal[] = [];
    await world.outboxBroker.consume("mailbox", ["delivery.local"], async (e) => {
      local.push(e);
    });
    const start = world.clock.t;
    for (let i = 0; i < 20; i++) {
      await deliverInbound(deps(), event);
      const d = await delivery(event.deliveryId);
      if (d.state !== "deferred") break;
      world.clock.t = d.nextAttemptAt!.getTime();
    }
    const d = await delivery(event.deliveryId);
    expect(world.clock.t - start).toBeGreaterThanOrEqual(HOUR);
    expect(d).toMatchObject({ state: "routed", route: "local" });
    expect(d.lastResponse).toMatch(
      /^inbound route \*@tickets\.in\.correo\.test: endpoint kept failing for 3600s, falling back to mailbox INBOX of helpdesk@in\.correo\.test; last: HTTP 503 from /,
    );
    await eventually(async () => local.some((e) => e.deliveryId === event.deliveryId), 10_000, "delivery.local published");
    const account = (await world.infra.pool.query<{ id: number }>("SELECT id FROM accounts WHERE address = 'helpdesk@in.correo.test'")).rows[0]!;
    expect(local.find((e) => e.deliveryId === event.deliveryId)).toMatchObject({ accountId: account.id, mailbox: "INBOX", recipient: "order-17@tickets.in.correo.test" });

    // The mailbox did not take it in time (lost event, full mailbox): routing's re-drive
    // announces delivery.inbound again, and the fallback is what runs again, not a POST.
    const posted = received.length;
    world.clock.t += 3 * MINUTE;
    await deliverInbound(deps(), event);
    expect(received).toHaveLength(posted);
    await eventually(async () => local.filter((e) => e.deliveryId === event.deliveryId).length === 2, 10_000, "delivery.local published again");
    expect((await delivery(event.deliveryId)).nextAttemptAt!.getTime()).toBe(world.clock.t + 2 * MINUTE);
  });

  it("bounces with a DSN to the sender whose diagnostic names the endpoint's last answer", async () => {
    answers = [500];
    const event = await arrive("noreply@in.correo.test", routes.get("gone")!);
    for (let i = 0; i < 20; i++) {
      await deliverInbound(deps(), event);
      const d = await delivery(event.deliveryId);
      if (d.state !== "deferred") break;
      world.clock.t = d.nextAttemptAt!.getTime();
    }
    const d = await delivery(event.deliveryId);
    expect(d.state).toBe("bounced");
    expect(d.lastResponse).toMatch(/^550 5\.4\.7 <noreply@in\.correo\.test>: inbound route endpoint kept failing for 3600s; last: HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/hook\/gone/);
    expect(await sweepDsns(world.dsnDeps())).toBeGreaterThanOrEqual(1);
    const { rows } = await world.infra.pool.query<{ blob_id: string }>(
      `SELECT m.blob_id FROM messages m JOIN deliveries x ON x.message_id = m.id WHERE m.envelope_from = '' AND x.recipient = 'ana@sender.test'`,
    );
    const dsns = await Promise.all(rows.map(async (r) => (await getBlob(world.infra.pool, r.blob_id))!.toString()));
    const dsn = dsns.find((t) => t.includes("Final-Recipient: rfc822; noreply@in.correo.test"));
    expect(dsn).toBeDefined();
    expect(dsn).toMatch(/Action: failed\r\nStatus: 5\.4\.7\r\n/);
    // Not an SMTP reply: the DSN path names the endpoint's answer with its own diagnostic type (RFC 3464 §2.3.6).
    expect(dsn).toMatch(/Diagnostic-Code: X-Correo; HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/hook\/gone: \{"error":"endpoint is having a bad day"\}\r\n/);
    expect(dsn).toMatch(/<noreply@in\.correo\.test>: HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/hook\/gone/);
    expect((await simpleParser(Buffer.from(dsn!))).subject).toBe("Undelivered Mail Returned to Sender");
  });
});
