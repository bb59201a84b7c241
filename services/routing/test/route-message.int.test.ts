import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { createPool } from "@correo/db";
import { addAccount, addAlias, addDomain, addDomainAlias, addTransport, findTransport, setCatchAll } from "@correo/directory";
import { createDns, resolveRoute } from "@correo/mx";
import { acceptMessage, Outbox, systemClock, type Clock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, recordStatements, type IsolatedInfra } from "@correo/testkit";
import type { DeliveryLocal, DeliveryRemote, MessageSubmitted } from "@correo/contracts";
import { startDnsmasq, type Dnsmasq } from "../../../packages/mx/test/dnsmasq.js";
import { routeMessage, type RouterDeps } from "../src/route-message.js";
import { redriveOverdue } from "../src/redrive.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let dnsmasq: Dnsmasq;
let deps: RouterDeps;
let dns: ReturnType<typeof createDns>;
const published: (DeliveryLocal | DeliveryRemote)[] = [];

async function submit(recipients: string[]): Promise<MessageSubmitted> {
  const raw = Buffer.from(`Subject: ${Math.random()}\r\n\r\nx\r\n`);
  const a = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom: "alice@example.test", recipients, source: "http" }, { clock: systemClock, redriveAfterMs: 60_000 });
  return { type: "message.submitted", version: 1, messageId: a.messageId, blobId: a.blobId, envelopeFrom: "alice@example.test", deliveries: a.deliveries, submittedAt: new Date().toISOString() };
}

async function deliveries(messageId: string) {
  const { rows } = await infra.pool.query<{ id: string; recipient: string; state: string; route: string | null; last_response: string; original_recipient: string | null }>(
    "SELECT id, recipient, state, route, last_response, original_recipient FROM deliveries WHERE message_id = $1 ORDER BY recipient",
    [messageId],
  );
  return rows;
}

async function timeline(deliveryId: string) {
  const { rows } = await infra.pool.query<{ event: string; detail: string | null }>("SELECT event, detail FROM delivery_events WHERE delivery_id = $1 ORDER BY id", [deliveryId]);
  return rows;
}

const eventsOf = (messageId: string, n: number) =>
  eventually(async () => {
    const m = published.filter((e) => e.messageId === messageId);
    return m.length >= n ? m : undefined;
  }, 10_000);

beforeAll(async () => {
  infra = await isolatedInfra("routing");
  dnsmasq = await startDnsmasq({
    mx: { "remote.test": [["mx.remote.test", 10]], "other.test": [["mx.other.test", 10]], "partner.test": [["mx.partner.test", 5]], "nomail.test": [[".", 0]] },
    a: { "mx.remote.test": ["127.0.0.31"], "mx.other.test": ["127.0.0.32"], "mx.partner.test": ["127.0.0.33"] },
    servfail: ["broken.example"],
  });
  dns = createDns(dnsmasq.server, 2000);
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
    route: (domain) => resolveRoute({ dns, findTransport: (d) => findTransport(infra.pool, d), smtpPort: 25 }, domain),
    deferral: { minBackoffMs: 60_000, maxBackoffMs: 3_600_000, maxLifetimeMs: 86_400_000 },
    random: () => 0.5, // no jitter
    log,
  };
  await addDomain(infra.pool, "example.test");
  await addDomain(infra.pool, "españa.test");
  await addDomainAlias(infra.pool, "example-alias.test", "example.test");
  await addAccount(infra.pool, "Bob@example.test", "correct horse");
  await addAccount(infra.pool, "ana@example.test", "correct horse");
  await addAccount(infra.pool, "josé@españa.test", "correct horse");
  await addAlias(infra.pool, "team@example.test", ["ana@example.test", "bob@example.test", "friend@partner.test", "ghost@example.test"]);
  await addAlias(infra.pool, "loop-a@example.test", ["loop-b@example.test"]);
  await addAlias(infra.pool, "loop-b@example.test", ["loop-a@example.test"]);
  await addAlias(infra.pool, "fwd@example.test", ["bob.elsewhere@partner.test"]);
});
afterAll(async () => {
  await broker?.close();
  await dnsmasq?.stop();
  await infra?.cleanup();
});

describe("routeMessage", () => {
  it("sends hosted recipients to their mailbox, bounces unknown ones, and groups remote ones per domain with their MX", async () => {
    const event = await submit(["bob@EXAMPLE.test", "nobody@example.test", "x@remote.test", "y@remote.test", "z@other.test"]);
    await routeMessage(deps, event);
    expect((await deliveries(event.messageId)).map(({ recipient, state, route, last_response }) => ({ recipient, state, route, last_response }))).toEqual([
      { recipient: "bob@EXAMPLE.test", state: "routed", route: "local", last_response: expect.stringMatching(/^local mailbox INBOX of Bob@example.test/) },
      { recipient: "nobody@example.test", state: "bounced", route: null, last_response: "550 5.1.1 <nobody@example.test>: no such mailbox here" },
      { recipient: "x@remote.test", state: "routed", route: "remote", last_response: "remote domain remote.test via mx mx.remote.test[127.0.0.31]:25" },
      { recipient: "y@remote.test", state: "routed", route: "remote", last_response: "remote domain remote.test via mx mx.remote.test[127.0.0.31]:25" },
      { recipient: "z@other.test", state: "routed", route: "remote", last_response: "remote domain other.test via mx mx.other.test[127.0.0.32]:25" },
    ]);
    const mine = await eventsOf(event.messageId, 3);
    const remote = mine.filter((e) => e.type === "delivery.remote");
    expect(remote.map((e) => (e.type === "delivery.remote" ? [e.domain, e.deliveries.length] : [])).sort()).toEqual([["other.test", 1], ["remote.test", 2]]);
  });

  it("reaches the account through plus-addressing, any case, alias domains and IDN in either label form, keeping the address as written", async () => {
    const written = ["BOB+News@Example.test", "ana@example-alias.test", "JOSÉ@españa.test", "josé+x@xn--espaa-rta.test"];
    const event = await submit(written);
    await routeMessage(deps, event);
    const rows = await deliveries(event.messageId);
    expect(rows.map((r) => [r.recipient, r.state, r.route])).toEqual(
      [...written].sort().map((w) => [w, "routed", "local"]),
    );
    const local = (await eventsOf(event.messageId, 4)).filter((e): e is DeliveryLocal => e.type === "delivery.local");
    const byRecipient = Object.fromEntries(local.map((e) => [e.recipient, e.accountId]));
    const { rows: ids } = await infra.pool.query("SELECT id, address FROM accounts WHERE address IN ('Bob@example.test', 'ana@example.test')");
    const idOf = Object.fromEntries(ids.map((r) => [r.address, r.id]));
    expect(byRecipient["BOB+News@Example.test"]).toBe(idOf["Bob@example.test"]);
    expect(byRecipient["ana@example-alias.test"]).toBe(idOf["ana@example.test"]);
    expect(new Set(Object.values(byRecipient)).size).toBe(3); // bob, ana, josé
    expect(byRecipient["JOSÉ@españa.test"]).toBe(byRecipient["josé+x@xn--espaa-rta.test"]);
  });

  it("expands an alias to one delivery per target: local, forwarded and unknown, recorded on the timeline", async () => {
    const event = await submit(["team@example.test"]);
    await routeMessage(deps, event);
    const rows = await deliveries(event.messageId);
    expect(rows.map((r) => [r.recipient, r.state, r.route])).toEqual([
      ["ana@example.test", "routed", "local"],
      ["bob@example.test", "routed", "local"],
      ["friend@partner.test", "routed", "remote"],
      ["ghost@example.test", "bounced", null],
      ["team@example.test", "delivered", null],
    ]);
    const team = rows.find((r) => r.recipient === "team@example.test")!;
    expect(team.last_response).toBe("250 2.1.5 expanded by alias team@example.test to ana@example.test, bob@example.test, friend@partner.test, ghost@example.test");
    const friend = rows.find((r) => r.recipient === "friend@partner.test")!;
    expect(friend.original_recipient).toBe("rfc822;team@example.test");
    expect(await timeline(friend.id)).toEqual([
      { event: "accepted", detail: "expanded from <team@example.test>" },
      { event: "routed", detail: "remote domain partner.test via mx mx.partner.test[127.0.0.33]:25" },
    ]);
    const mine = await eventsOf(event.messageId, 3);
    expect(mine.filter((e) => e.type === "delivery.local").map((e) => e.recipient).sort()).toEqual(["ana@example.test", "bob@example.test"]);
    expect(mine.filter((e) => e.type === "delivery.remote").map((e) => (e as DeliveryRemote).deliveries.map((d) => d.recipient))).toEqual([["friend@partner.test"]]);
  });

  it("forwards to an external address: the relay gets a delivery whose recipient is the forward target", async () => {
    const event = await submit(["fwd@example.test"]);
    await routeMessage(deps, event);
    const remote = (await eventsOf(event.messageId, 1)).find((e): e is DeliveryRemote => e.type === "delivery.remote")!;
    expect(remote.domain).toBe("partner.test");
    expect(remote.deliveries.map((d) => d.recipient)).toEqual(["bob.elsewhere@partner.test"]);
  });

  it("delivers once to a recipient named both directly and through an alias", async () => {
    const event = await submit(["bob@example.test", "team@example.test"]);
    await routeMessage(deps, event);
    const rows = await deliveries(event.messageId);
    expect(rows.filter((r) => r.recipient.toLowerCase() === "bob@example.test")).toHaveLength(1);
    expect(rows.map((r) => r.recipient)).toContain("ana@example.test");
  });

  it("bounces an alias loop with 550 5.4.6", async () => {
    const event = await submit(["loop-a@example.test"]);
    await routeMessage(deps, event);
    const [row] = await deliveries(event.messageId);
    expect(row).toMatchObject({ recipient: "loop-a@example.test", state: "bounced" });
    expect(row!.last_response).toBe(
      "550 5.4.6 <loop-a@example.test>: alias loop-a@example.test leads to no recipient; alias loop: loop-a@example.test → loop-b@example.test → loop-a@example.test",
    );
  });

  it("sends mail for unknown users to the domain's catch-all", async () => {
    await addDomain(infra.pool, "catchall.test");
    await addAccount(infra.pool, "postmaster@catchall.test", "correct horse");
    await setCatchAll(infra.pool, "catchall.test", "postmaster@catchall.test");
    const event = await submit(["whoever@catchall.test"]);
    await routeMessage(deps, event);
    const rows = await deliveries(event.messageId);
    expect(rows.map((r) => [r.recipient, r.state, r.route, r.last_response])).toEqual([
      ["postmaster@catchall.test", "routed", "local", expect.stringMatching(/^local mailbox INBOX of postmaster@catchall.test/)],
      ["whoever@catchall.test", "delivered", null, "250 2.1.5 expanded by catch-all of catchall.test to postmaster@catchall.test"],
    ]);
  });

  it("bounces a domain with a null MX with 5.1.10 at routing time", async () => {
    const event = await submit(["x@nomail.test"]);
    await routeMessage(deps, event);
    const [row] = await deliveries(event.messageId);
    expect(row).toMatchObject({ state: "bounced" });
    expect(row!.last_response).toMatch(/^550 5\.1\.10 /);
  });

  it("defers on SERVFAIL, and routing's re-drive routes it once DNS (here: a transport) answers", async () => {
    const event = await submit(["x@broken.example"]);
    await routeMessage(deps, event);
    const [row] = await deliveries(event.messageId);
    expect(row).toMatchObject({ state: "deferred", route: null });
    expect(row!.last_response).toMatch(/^4\.4\.3 DNS failure looking up MX of broken\.example: ESERVFAIL/);
    const { rows: next } = await infra.pool.query("SELECT next_attempt_at FROM deliveries WHERE id = $1", [row!.id]);
    expect(next[0].next_attempt_at.getTime() - Date.now()).toBeGreaterThan(50_000); // RELAY_MIN_BACKOFF, not at once

    await addTransport(infra.pool, "broken.example", "127.0.0.1", 2525);
    const later: Clock = { now: () => new Date(Date.now() + 61_000) };
    const redriven: MessageSubmitted[] = [];
    const spy = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
    await spy.connect();
    await spy.consume("routing", ["message.submitted"], async (e) => void redriven.push(e));
    expect(await redriveOverdue({ pool: infra.pool, broker, clock: later, log }, 60_000)).toBeGreaterThanOrEqual(1);
    const again = await eventually(async () => redriven.find((e) => e.messageId === event.messageId), 10_000);
    await routeMessage({ ...deps, clock: later }, again);
    await spy.close();
    expect((await timeline(row!.id)).map((e) => [e.event, e.detail])).toEqual([
      ["accepted", expect.anything()],
      ["deferred", expect.stringMatching(/^4\.4\.3 .*ESERVFAIL/)],
      ["routed", "remote domain broken.example via transport 127.0.0.1:2525"],
    ]);
  });

  it("never moves a final delivery again when the event comes twice", async () => {
    const event = await submit(["nobody@example.test"]);
    await routeMessage(deps, event);
    await routeMessage(deps, event);
    expect((await timeline(event.deliveries[0]!.deliveryId)).map((r) => r.event)).toEqual(["accepted", "bounced"]);
  });

  it("re-drives a delivery whose event was lost once its next action time has passed", async () => {
    const event = await submit(["bob@example.test"]); // accepted and announced; pretend routing never saw it
    const later: Clock = { now: () => new Date(Date.now() + 61_000) };
    const before = published.length;
    const redriven: MessageSubmitted[] = [];
    const spy = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
    await spy.connect();
    await spy.consume("routing", ["message.submitted"], async (e) => void redriven.push(e));
    const n = await redriveOverdue({ pool: infra.pool, broker, clock: later, log }, 60_000);
    expect(n).toBeGreaterThanOrEqual(1);
    const again = await eventually(async () => redriven.find((e) => e.messageId === event.messageId), 10_000);
    await routeMessage({ ...deps, clock: later }, again);
    await eventually(async () => published.slice(before).some((e) => e.messageId === event.messageId && e.type === "delivery.local"), 10_000);
    const { rows } = await infra.pool.query("SELECT next_attempt_at FROM deliveries WHERE id = $1", [event.deliveries[0]!.deliveryId]);
    expect(rows[0].next_attempt_at.getTime()).toBeGreaterThan(later.now().getTime());
    await spy.close();
  });

  it("expires a local delivery re-driven past the lifetime (a full mailbox kept deferring) with its last reply", async () => {
    const event = await submit(["ana@example.test"]);
    await routeMessage(deps, event);
    const id = event.deliveries[0]!.deliveryId;
    // What the mailbox records when the account is over its quota.
    await infra.pool.query("UPDATE deliveries SET last_response = $2 WHERE id = $1", [id, "452 4.2.2 <ana@example.test>: mailbox full"]);
    // Within the lifetime a re-drive routes it to the mailbox again…
    await routeMessage({ ...deps, clock: { now: () => new Date(Date.now() + 3_600_000) } }, event);
    expect((await infra.pool.query("SELECT state FROM deliveries WHERE id = $1", [id])).rows[0].state).toBe("routed");
    // …after it, the delivery expires and keeps the reason.
    await routeMessage({ ...deps, clock: { now: () => new Date(Date.now() + 86_400_000 + 60_000) } }, event);
    const { rows } = await infra.pool.query("SELECT state, last_response, next_attempt_at FROM deliveries WHERE id = $1", [id]);
    expect(rows[0]).toEqual({
      state: "expired",
      last_response: "5.4.7 delivery time expired; last: 452 4.2.2 <ana@example.test>: mailbox full",
      next_attempt_at: null,
    });
  });

  it("routes an alias to a remote target with a pool of one connection: no lookup takes a second one under the transaction", async () => {
    // The pool is as small as it gets: a handler that asked the pool for a connection while
    // it held one would wait for itself ("timeout exceeded when trying to connect").
    const one = createPool(infra.databaseUrl, 1);
    one.options.connectionTimeoutMillis = 1000;
    await addTransport(infra.pool, "transport-only.test", "127.0.0.1", 2526);
    await addAlias(infra.pool, "via-transport@example.test", ["x@transport-only.test", "ana@example.test"]);
    try {
      const event = await submit(["via-transport@example.test"]);
      await routeMessage({ ...deps, pool: one, route: (d) => resolveRoute({ dns, findTransport: (x) => findTransport(one, x), smtpPort: 25 }, d) }, event);
      expect((await deliveries(event.messageId)).map((r) => [r.recipient, r.state, r.route, r.last_response])).toEqual([
        ["ana@example.test", "routed", "local", expect.stringMatching(/^local mailbox INBOX of ana@example.test/)],
        ["via-transport@example.test", "delivered", null, "250 2.1.5 expanded by alias via-transport@example.test to x@transport-only.test, ana@example.test"],
        ["x@transport-only.test", "routed", "remote", "remote domain transport-only.test via transport 127.0.0.1:2526"],
      ]);
    } finally {
      await one.end();
    }
  });

  it("routes a one-recipient remote message in five statements: one read, one directory and one transport lookup, one write, the outbox delete", async () => {
    const event = await submit(["counted@remote.test"]);
    // Outbox DELETEs run in the background after announce(): wait for the accept's to land
    // before counting, and for routing's own before stopping (the polls are left out).
    const poll = "SELECT 1 FROM outbox WHERE payload->>'messageId' = $1";
    const outboxDrained = () => eventually(async () => ((await infra.pool.query(poll, [event.messageId])).rowCount === 0 ? true : undefined), 10_000);
    await outboxDrained();
    const recorder = await recordStatements(infra.pool);
    try {
      await routeMessage(deps, event);
      await outboxDrained();
    } finally {
      recorder.restore();
    }
    const statements = recorder.statements.filter((s) => s !== "SELECT 1 FROM");
    expect((await deliveries(event.messageId))[0]).toMatchObject({ state: "routed", route: "remote" });
    expect(statements).toHaveLength(5);
  });
});
