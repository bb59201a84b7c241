import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { MessageSubmitted } from "@correo/contracts";
import { submitted } from "./events.js";
import { Broker, DeadLetterQueue, DeadLetterQueueBusyError, DeadLetterUnroutableError } from "../src/index.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let dlq: DeadLetterQueue;
/** While true, the routing consumer fails every event: they reach the delivery limit and are dead-lettered. */
let failing = true;
const consumed: MessageSubmitted[] = [];

/**
 * Dead letters ready in the queue, counted without reading them: a list() while another
 * event is being dead-lettered hands its reads back behind the newcomer (quorum queues
 * put returned messages at the back), which would reorder what the tests then list.
 */
async function deadLetterCount(): Promise<number> {
  const conn = await amqp.connect(infra.amqpUrl);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(`${infra.prefix}.dead-letter`)).messageCount;
  } finally {
    await conn.close();
  }
}

beforeAll(async () => {
  infra = await isolatedInfra("dead-letters");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log, deliveryLimit: 1, connectionName: `${infra.prefix}-dlq` });
  await broker.connect();
  await broker.consume("routing", ["message.submitted"], async (event) => {
    if (failing) throw new Error("the routing test handler is failing on purpose");
    consumed.push(event);
  });
  dlq = new DeadLetterQueue({ url: infra.amqpUrl, prefix: infra.prefix, lockTimeoutMs: 3000 });
});
afterAll(async () => {
  await broker?.close();
  await infra?.cleanup();
});

describe("the dead-letter queue", () => {
  const invalidBody = JSON.stringify({ type: "message.submitted", version: 1, messageId: "not-a-uuid" });
  const poison = submitted();
  let invalidId: string;
  let poisonId: string;

  it("lists an invalid event and one that hit the delivery limit, oldest first, with where and why they died", async () => {
    await broker.publishRaw("message.submitted", Buffer.from(invalidBody), {});
    await eventually(async () => ((await deadLetterCount()) === 1 ? true : undefined), 10_000, "invalid event dead-lettered");
    await broker.publish(poison);
    await eventually(async () => ((await deadLetterCount()) === 2 ? true : undefined), 20_000, "poison event dead-lettered");

    const { total, deadLetters } = await dlq.list();
    expect(total).toBe(2);
    const [invalid, limit] = deadLetters;
    expect(invalid).toMatchObject({
      routingKey: "message.submitted",
      eventType: "message.submitted",
      reason: "rejected",
      deathCount: 1,
      originalQueue: `${infra.prefix}.routing`,
      originalExchange: `${infra.prefix}.mail`,
      size: Buffer.byteLength(invalidBody),
    });
    expect(invalid!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.now() - invalid!.firstDeathAt!.getTime()).toBeLessThan(60_000);
    expect(limit).toMatchObject({ reason: "delivery_limit", originalQueue: `${infra.prefix}.routing`, deathCount: 1 });
    invalidId = invalid!.id;
    poisonId = limit!.id;
  });

  it("reading the queue leaves it as it was: every dead letter is handed back, in order", async () => {
    await dlq.list();
    await dlq.show(poisonId);
    const { total, deadLetters } = await dlq.list({ offset: 1, limit: 5 });
    expect(total).toBe(2);
    expect(deadLetters.map((d) => d.id)).toEqual([poisonId]);
    // Reading does not count as a death.
    expect(deadLetters[0]!.deathCount).toBe(1);
  });

  it("shows the full event body and its headers", async () => {
    const shown = await dlq.show(poisonId);
    expect(shown?.event).toEqual(poison);
    expect(shown?.body).toBe(JSON.stringify(poison));
    expect(shown?.contentType).toBe("application/json");
    expect(shown?.headers["x-death"]).toBeDefined();
    expect(await dlq.show("00000000-0000-4000-8000-000000000000")).toBeUndefined();
  });

  it("requeues an event to its original routing key, without x-death, where it is consumed, and removes it from the queue", async () => {
    failing = false;
    const requeued = await dlq.requeue(poisonId);
    expect(requeued?.id).toBe(poisonId);
    const got = await eventually(async () => consumed.find((e) => e.messageId === poison.messageId), 10_000, "requeued event consumed");
    expect(got).toEqual(poison);
    const { deadLetters } = await dlq.list();
    expect(deadLetters.map((d) => d.id)).toEqual([invalidId]);
    expect(await dlq.requeue(poisonId)).toBeUndefined();
  });

  it("drops a dead letter for good", async () => {
    const dropped = await dlq.drop(invalidId);
    expect(dropped?.id).toBe(invalidId);
    expect((await dlq.list()).total).toBe(0);
    expect(await dlq.drop(invalidId)).toBeUndefined();
  });

  it("two operators requeueing the same dead letter at once: one does it, the other finds it gone; the event is published once", async () => {
    failing = true;
    const event = submitted();
    await broker.publish(event);
    await eventually(async () => ((await deadLetterCount()) === 1 ? true : undefined), 20_000, "dead-lettered");
    const id = (await dlq.list()).deadLetters[0]!.id;
    failing = false;
    const other = new DeadLetterQueue({ url: infra.amqpUrl, prefix: infra.prefix });
    const results = await Promise.all([dlq.requeue(id), other.requeue(id), dlq.list()]);
    expect(results.slice(0, 2).filter((r) => r !== undefined)).toHaveLength(1);
    await eventually(async () => consumed.find((e) => e.messageId === event.messageId), 10_000, "consumed");
    await new Promise((r) => setTimeout(r, 500));
    expect(consumed.filter((e) => e.messageId === event.messageId)).toHaveLength(1);
    expect((await dlq.list()).total).toBe(0);
  });

  it("keeps a dead letter whose routing key no queue is bound to, rather than publish it into nothing", async () => {
    const conn = await amqp.connect(infra.amqpUrl);
    const ch = await conn.createConfirmChannel();
    ch.publish(`${infra.prefix}.mail.dlx`, "nothing.bound", Buffer.from("{}"), { messageId: "unroutable-1" });
    await ch.waitForConfirms();
    await conn.close();
    await expect(dlq.requeue("unroutable-1")).rejects.toBeInstanceOf(DeadLetterUnroutableError);
    expect((await dlq.list()).deadLetters.map((d) => d.id)).toEqual(["unroutable-1"]);
    await dlq.drop("unroutable-1");
  });

  it("an operation waits for another one to release the queue, and gives up with DeadLetterQueueBusyError", async () => {
    const conn = await amqp.connect(infra.amqpUrl);
    const ch = await conn.createChannel();
    await ch.assertQueue(`${infra.prefix}.dead-letter.lock`, { exclusive: true, autoDelete: true, durable: false });
    const started = Date.now();
    await expect(new DeadLetterQueue({ url: infra.amqpUrl, prefix: infra.prefix, lockTimeoutMs: 500 }).list()).rejects.toBeInstanceOf(
      DeadLetterQueueBusyError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const waiting = dlq.list();
    await new Promise((r) => setTimeout(r, 300));
    await conn.close();
    await expect(waiting).resolves.toMatchObject({ total: 0 });
  });

  it("says RabbitMQ is unavailable when it cannot connect", async () => {
    await expect(new DeadLetterQueue({ url: "amqp://guest:guest@127.0.0.1:1", prefix: infra.prefix }).list()).rejects.toThrow(/unreachable/);
  });
});
