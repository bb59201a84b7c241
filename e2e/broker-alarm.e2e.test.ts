import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canStartPrivateRabbitMQ,
  eventually,
  freePort,
  isolatedInfra,
  startPrivateRabbitMQ,
  type IsolatedInfra,
  type PrivateRabbitMQ,
} from "@correo/testkit";
import { outboxPipeline, type OutboxPipeline } from "./outbox-pipeline.js";

/**
 * DESIGN: "A blocked or absent RabbitMQ costs latency of nothing but the commit."
 * A private RabbitMQ node (the shared one's watermark is never touched) raises its
 * memory alarm (watermark 0): it blocks publishing connections (connection.blocked).
 * Submission keeps answering 202 from the commit alone, the events wait in the outbox,
 * and once the alarm clears (connection.unblocked) they are published and delivered.
 */
let infra: IsolatedInfra;
let rabbit: PrivateRabbitMQ | undefined;
let pipeline: OutboxPipeline | undefined;

describe.skipIf(!canStartPrivateRabbitMQ())("a broker memory alarm", () => {
  beforeAll(async () => {
    infra = await isolatedInfra("broker-alarm");
    rabbit = await startPrivateRabbitMQ(await freePort(), await freePort());
    pipeline = outboxPipeline(infra, "alarm");
    await pipeline.start({ ...infra.env, AMQP_URL: rabbit.url, OUTBOX_SWEEP_INTERVAL: "1s", LOG_LEVEL: "info", RELAY_SMTP_PORT: "1" });
  }, 180_000);

  afterAll(async () => {
    await rabbit?.ctl("set_vm_memory_high_watermark", "0.4").catch(() => undefined);
    await pipeline?.stop();
    await rabbit?.stop();
    await infra?.cleanup();
  }, 120_000);

  it("answers 202 from the commit while the broker blocks publishers, and delivers everything once the alarm clears", async () => {
    const { send, delivered, inOutbox } = pipeline!;
    const submission = pipeline!.submission;
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => send(i)));
    await eventually(async () => (await delivered()) === 5, 30_000, "warm-up delivered");

    await rabbit!.ctl("set_vm_memory_high_watermark", "0");
    // RabbitMQ blocks a connection (and says connection.blocked) at its first publish during the alarm.
    for (let i = 5; i < 45; i += 10) ids.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => send(i + k)))));
    // No publisher waited on the blocked connection and gave up: every event waits in the outbox.
    expect(submission.output()).not.toMatch(/left in outbox for the sweeper|no confirm from RabbitMQ/);
    expect(await inOutbox()).toBe(40);
    expect(await delivered()).toBe(5);
    await eventually(async () => /broker blocked this connection/.test(submission.output()), 30_000, "submission told it is blocked");

    await rabbit!.ctl("set_vm_memory_high_watermark", "0.4");
    await eventually(async () => (await delivered()) === 45, 60_000, "every message delivered once the alarm cleared");
    await eventually(async () => (await inOutbox()) === 0, 30_000, "outbox drained");
    expect(new Set(await pipeline!.inMailboxes())).toEqual(new Set(ids));
  });
});
