import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { MessageSubmitted } from "@correo/contracts";
import { acceptMessage, blobIdOf, Outbox, systemClock, type Clock, type Submission } from "../src/index.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
const received: MessageSubmitted[] = [];
const raw = Buffer.from("From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nhello\r\n");

async function count(table: string): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

beforeAll(async () => {
  infra = await isolatedInfra("spool");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  await broker.consume("routing", ["message.submitted"], async (e) => void received.push(e));
  outbox = new Outbox(infra.pool, broker, log);
});
afterAll(async () => {
  await broker.close();
  await infra.cleanup();
});

describe("acceptMessage", () => {
  it("commits blob, message, one delivery per recipient and announces it, leaving the outbox empty", async () => {
    const fixed: Clock = { now: () => new Date("2026-11-26T12:00:00Z") };
    const accepted = await acceptMessage(
      infra.pool,
      outbox,
      { raw, envelopeFrom: "alice@example.test", recipients: ["bob@example.test", "carol@example.test", "bob@example.test"], source: "http" },
      { clock: fixed, redriveAfterMs: 120_000 },
    );
    expect(accepted.blobId).toBe(blobIdOf(raw));
    expect(accepted.deliveries.map((d) => d.recipient)).toEqual(["bob@example.test", "carol@example.test"]);
    const { rows } = await infra.pool.query(
      "SELECT recipient, state, next_attempt_at FROM deliveries WHERE message_id = $1 ORDER BY recipient",
      [accepted.messageId],
    );
    expect(rows).toEqual([
      { recipient: "bob@example.test", state: "queued", next_attempt_at: new Date("2026-11-26T12:02:00Z") },
      { recipient: "carol@example.test", state: "queued", next_attempt_at: new Date("2026-11-26T12:02:00Z") },
    ]);
    const event = await eventually(async () => received.find((e) => e.messageId === accepted.messageId), 10_000);
    // Published in the background, and its row deleted once RabbitMQ confirmed it.
    await eventually(async () => (await count("outbox")) === 0, 10_000, "outbox emptied");
    expect(event.deliveries).toEqual(accepted.deliveries);
  });

  it("stores RFC 3461 parameters: RET and ENVID per message, NOTIFY and ORCPT per recipient", async () => {
    const accepted = await acceptMessage(
      infra.pool,
      outbox,
      {
        raw,
        envelopeFrom: "alice@example.test",
        recipients: ["bob@example.test", "carol@example.test"],
        source: "smtp",
        dsn: { ret: "HDRS", envid: "QQ314159" },
        recipientParams: { "bob@example.test": { notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;Bob@Example.test" } },
      },
      { clock: systemClock, redriveAfterMs: 1000 },
    );
    const m = await infra.pool.query("SELECT dsn_ret, dsn_envid FROM messages WHERE id = $1", [accepted.messageId]);
    expect(m.rows[0]).toEqual({ dsn_ret: "HDRS", dsn_envid: "QQ314159" });
    const d = await infra.pool.query("SELECT recipient, dsn_notify, original_recipient FROM deliveries WHERE message_id = $1 ORDER BY recipient", [accepted.messageId]);
    expect(d.rows).toEqual([
      { recipient: "bob@example.test", dsn_notify: ["SUCCESS", "FAILURE"], original_recipient: "rfc822;Bob@Example.test" },
      { recipient: "carol@example.test", dsn_notify: null, original_recipient: null },
    ]);
  });

  it("stores identical bodies once", async () => {
    const before = await count("blobs");
    await acceptMessage(infra.pool, outbox, { raw, envelopeFrom: "", recipients: ["x@example.test"], source: "dsn" }, { clock: systemClock, redriveAfterMs: 1000 });
    expect(await count("blobs")).toBe(before);
  });

  it("leaves nothing behind when any write fails", async () => {
    // The earlier tests' events leave the outbox in the background.
    await eventually(async () => (await count("outbox")) === 0, 10_000, "outbox emptied");
    const before = { blobs: await count("blobs"), messages: await count("messages"), deliveries: await count("deliveries"), outbox: await count("outbox") };
    const other = Buffer.from("Subject: never stored\r\n\r\nx\r\n");
    // PostgreSQL refuses NUL in text: the statement fails before it writes anything.
    await expect(
      acceptMessage(infra.pool, outbox, { raw: other, envelopeFrom: "a@example.test", recipients: ["bad\u0000@example.test"], source: "http" }, { clock: systemClock, redriveAfterMs: 1000 }),
    ).rejects.toThrow();
    // A NOTIFY value the deliveries' CHECK refuses: it fails while running, after the
    // blob and the message rows were inserted, and takes them back with it.
    const badNotify = { "c@example.test": { notify: ["SOMETIMES"] } } as unknown as Submission["recipientParams"];
    await expect(
      acceptMessage(
        infra.pool,
        outbox,
        { raw: other, envelopeFrom: "a@example.test", recipients: ["c@example.test"], source: "smtp", recipientParams: badNotify },
        { clock: systemClock, redriveAfterMs: 1000 },
      ),
    ).rejects.toThrow(/check constraint/);
    expect({ blobs: await count("blobs"), messages: await count("messages"), deliveries: await count("deliveries"), outbox: await count("outbox") }).toEqual(before);
  });

  it("keeps the event in the outbox while RabbitMQ is away, and the sweeper announces it later", async () => {
    const offline = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
    const parked = new Outbox(infra.pool, offline, log);
    const accepted = await acceptMessage(
      infra.pool,
      parked,
      { raw, envelopeFrom: "alice@example.test", recipients: ["dave@example.test"], source: "http" },
      { clock: systemClock, redriveAfterMs: 1000 },
    );
    const inOutbox = async () =>
      (await infra.pool.query("SELECT 1 FROM outbox WHERE payload->>'messageId' = $1", [accepted.messageId])).rowCount;
    expect(await inOutbox()).toBe(1);
    // The sweeper of any process (here: the connected one) republishes it.
    await eventually(async () => (await outbox.sweep(0)) >= 1 && (await inOutbox()) === 0, 5000, "sweep");
    await eventually(async () => received.find((e) => e.messageId === accepted.messageId), 10_000, "swept event consumed");
  });
});
