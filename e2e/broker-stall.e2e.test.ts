import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, isolatedInfra, startTcpProxy, type IsolatedInfra, type TcpProxy } from "@correo/testkit";
import { outboxPipeline, type OutboxPipeline } from "./outbox-pipeline.js";

/**
 * DESIGN: "The answer never waits for the broker." The submission service reaches
 * RabbitMQ through a real TCP proxy that the test stalls: the connection stays open
 * and no confirm comes back, as during a memory alarm. Every POST is answered 202
 * while the broker is stalled, and the outbox drains once it is back.
 */
let infra: IsolatedInfra;
let proxy: TcpProxy;
let pipeline: OutboxPipeline | undefined;

async function sendAll(from: number, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = from;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < from + n) ids.push(await pipeline!.send(next++));
    }),
  );
  return ids;
}

beforeAll(async () => {
  infra = await isolatedInfra("broker-stall");
  const amqp = new URL(infra.amqpUrl);
  proxy = await startTcpProxy({ host: amqp.hostname, port: Number(amqp.port || 5672) });
  const viaProxy = new URL(infra.amqpUrl);
  viaProxy.port = String(proxy.port);
  pipeline = outboxPipeline(infra, "stall");
  // Only submission goes through the proxy; routing and mailbox reach RabbitMQ directly.
  await pipeline.start(
    { ...infra.env, OUTBOX_SWEEP_INTERVAL: "1s", LOG_LEVEL: "warn", RELAY_SMTP_PORT: "1" },
    { AMQP_URL: viaProxy.toString() },
  );
});

afterAll(async () => {
  proxy?.resume();
  await pipeline?.stop();
  await proxy?.close();
  await infra?.cleanup();
});

describe("a stalled broker", () => {
  it("answers 202 without waiting for confirms, keeps the events in the outbox and drains it when the broker is back", async () => {
    const { delivered, inOutbox } = pipeline!;
    const submission = pipeline!.submission;
    const before = await sendAll(0, 5);
    await eventually(async () => (await delivered()) === 5, 30_000, "warm-up messages delivered");

    proxy.pause();
    const stalled = await sendAll(5, 40);
    // Every answer came while nothing had been confirmed yet: no publisher gave up on a
    // confirm (that takes 10 s), nothing reached the mailbox, and every event waits in the outbox.
    expect(submission.output()).not.toMatch(/left in outbox/);
    expect(await delivered()).toBe(5);
    expect(await inOutbox()).toBe(40);
    expect(submission.child.exitCode).toBeNull();

    proxy.resume();
    await eventually(async () => (await delivered()) === 45, 60_000, "every message delivered after the broker is back");
    await eventually(async () => (await inOutbox()) === 0, 30_000, "outbox drained");
    expect(new Set(await pipeline!.inMailboxes())).toEqual(new Set([...before, ...stalled]));
  });
});
