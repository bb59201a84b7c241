import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, createLogger, startTelemetry, trace, tracer } from "@correo/telemetry";
import { eventually, forceCloseConnections, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { MessageSubmitted } from "@correo/contracts";
import { submitted } from "./events.js";
import { Broker } from "../src/index.js";

const log = createLogger("test", "silent");
let infra: IsolatedInfra;
const brokers: Broker[] = [];

// Small, so that the poison test needs only three attempts; every broker of a prefix must agree on it.
const deliveryLimit = 3;

async function newBroker(name: string): Promise<Broker> {
  const b = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log, connectionName: `${infra.prefix}-${name}`, deliveryLimit });
  await b.connect();
  brokers.push(b);
  return b;
}

async function deadLetters(): Promise<string[]> {
  const conn = await amqp.connect(infra.amqpUrl);
  const ch = await conn.createChannel();
  const bodies: string[] = [];
  for (;;) {
    const msg = await ch.get(`${infra.prefix}.dead-letter`, { noAck: true });
    if (!msg) break;
    bodies.push(msg.content.toString());
  }
  await conn.close();
  return bodies;
}

beforeAll(async () => {
  startTelemetry("broker-test");
  infra = await isolatedInfra("broker");
});
afterAll(async () => {
  for (const b of brokers) await b.close();
  await infra.cleanup();
});

describe("Broker", () => {
  it("declares the topology with quorum queues, a delivery limit and a dead-letter exchange", async () => {
    await newBroker("declare");
    const conn = await amqp.connect(infra.amqpUrl);
    const ch = await conn.createChannel();
    for (const q of ["routing", "relay-queue", "mailbox", "dead-letter"]) {
      await expect(ch.checkQueue(`${infra.prefix}.${q}`)).resolves.toMatchObject({ queue: `${infra.prefix}.${q}` });
    }
    await expect(ch.checkExchange(`${infra.prefix}.mail`)).resolves.toBeDefined();
    await conn.close();
  });

  it("delivers a confirmed event to its work queue with the publisher's trace context", async () => {
    const broker = await newBroker("roundtrip");
    const received: { event: MessageSubmitted; traceId: string | undefined }[] = [];
    await broker.consume("routing", ["message.submitted"], async (event) => {
      received.push({ event, traceId: trace.getActiveSpan()?.spanContext().traceId });
    });
    const event = submitted();
    const span = tracer().startSpan("test publish");
    await context.with(trace.setSpan(context.active(), span), () => broker.publish(event));
    span.end();
    const got = await eventually(async () => received.find((r) => r.event.messageId === event.messageId), 10_000, "event consumed");
    expect(got.event).toEqual(event);
    expect(got.traceId).toBe(span.spanContext().traceId);
  });

  it("refuses to publish an event that breaks its contract", async () => {
    const broker = await newBroker("contract");
    await expect(broker.publish({ ...submitted(), deliveries: [] })).rejects.toThrow(/deliveries/);
  });

  it("dead-letters an off-contract message at once and a failing one after the delivery limit", async () => {
    const broker = await newBroker("poison");
    let attempts = 0;
    const poison = {
      type: "delivery.local" as const,
      version: 1 as const,
      messageId: randomUUID(),
      deliveryId: randomUUID(),
      blobId: "d".repeat(64),
      recipient: "poison@example.test",
      accountId: 1,
      mailbox: "INBOX",
    };
    // Only this test consumes the mailbox queue, so no other handler can take these.
    await broker.consume("mailbox", ["delivery.local"], async () => {
      attempts++;
      throw new Error("handler keeps failing");
    });
    await broker.publishRaw("delivery.local", Buffer.from("{not json"), {});
    await broker.publish(poison);
    const dead: string[] = [];
    await eventually(
      async () => {
        dead.push(...(await deadLetters()));
        return dead.length >= 2;
      },
      30_000,
      "two dead letters",
    );
    expect(dead).toContain("{not json");
    expect(dead.filter((d) => d.includes(poison.messageId))).toHaveLength(1);
    // The first delivery and `deliveryLimit` redeliveries reached the handler; the off-contract one never did.
    expect(attempts).toBe(deliveryLimit + 1);
  });

  it("reconnects after the broker drops the connection and loses nothing published around it", async () => {
    const consumer = await newBroker("reconnect-consumer");
    const publisher = await newBroker("reconnect-publisher");
    const seen = new Map<string, number>();
    await consumer.consume("relay-queue", ["delivery.remote"], async (e) => {
      seen.set(e.messageId, (seen.get(e.messageId) ?? 0) + 1);
    });
    const remote = () => ({
      type: "delivery.remote" as const,
      version: 1 as const,
      messageId: randomUUID(),
      blobId: "c".repeat(64),
      envelopeFrom: "",
      domain: "remote.test",
      deliveries: [{ deliveryId: randomUUID(), recipient: "x@remote.test" }],
    });
    const before = Array.from({ length: 20 }, remote);
    for (const e of before) await publisher.publish(e);
    expect(await forceCloseConnections(`${infra.prefix}-reconnect`)).toBe(2);
    await eventually(
      async () => consumer.reconnections === 1 && publisher.reconnections === 1 && consumer.connected && publisher.connected,
      15_000,
      "both reconnected",
    );
    const after = Array.from({ length: 20 }, remote);
    for (const e of after) await publisher.publish(e);
    await eventually(async () => [...before, ...after].every((e) => seen.has(e.messageId)), 20_000, "all 40 consumed");
  });
});
