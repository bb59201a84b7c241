import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import {
  canStartPrivateRabbitMQ,
  eventually,
  freePort,
  isolatedInfra,
  spawnService,
  startPrivateRabbitMQ,
  waitForHttp,
  type IsolatedInfra,
  type PrivateRabbitMQ,
  type RunningProcess,
} from "@correo/testkit";

/**
 * DESIGN: "A blocked or absent RabbitMQ costs latency of nothing but the commit."
 * A private RabbitMQ node (the shared one's watermark is never touched) raises its
 * memory alarm (watermark 0): it blocks publishing connections (connection.blocked).
 * Submission keeps answering 202 from the commit alone, the events wait in the outbox,
 * and once the alarm clears (connection.unblocked) they are published and delivered.
 */
let infra: IsolatedInfra;
let rabbit: PrivateRabbitMQ | undefined;
const running: RunningProcess[] = [];
let token: string;
let httpPort: number;
let submission: RunningProcess;

async function send(i: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "sender@example.test", to: "ana@example.test", subject: `alarm ${i}`, text: `message ${i}` }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function count(sql: string): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>(sql);
  return rows[0]!.n;
}
const delivered = () => count("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'");
const inOutbox = () => count("SELECT count(*)::int AS n FROM outbox");

describe.skipIf(!canStartPrivateRabbitMQ())("a broker memory alarm", () => {
  beforeAll(async () => {
    infra = await isolatedInfra("broker-alarm");
    rabbit = await startPrivateRabbitMQ(await freePort(), await freePort());
    httpPort = await freePort();
    const env = { ...infra.env, AMQP_URL: rabbit.url, OUTBOX_SWEEP_INTERVAL: "1s", LOG_LEVEL: "info", RELAY_SMTP_PORT: "1" };
    const start = async (name: string, extra: Record<string, string>) => {
      const ops = await freePort();
      const proc = spawnService(name, { ...env, ...extra, OPS_PORT: String(ops) });
      running.push(proc);
      await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 30_000, proc);
      return proc;
    };
    await addDomain(infra.pool, "example.test");
    await addAccount(infra.pool, "ana@example.test", "correct horse");
    token = (await createApiKey(infra.pool, "example.test")).token;
    submission = await start("submission", {
      SUBMISSION_HTTP_PORT: String(httpPort),
      SMTP_MX_PORT: String(await freePort()),
      SMTP_SUBMISSION_PORT: String(await freePort()),
      SMTPS_PORT: String(await freePort()),
    });
    await start("routing", {});
    await start("mailbox", {});
  }, 180_000);

  afterAll(async () => {
    await rabbit?.ctl("set_vm_memory_high_watermark", "0.4").catch(() => undefined);
    await Promise.all(running.map((p) => p.stop()));
    await rabbit?.stop();
    await infra?.cleanup();
  }, 120_000);

  it("answers 202 from the commit while the broker blocks publishers, and delivers everything once the alarm clears", async () => {
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
    const { rows } = await infra.pool.query<{ message_id: string }>(
      "SELECT DISTINCT d.message_id FROM deliveries d JOIN mailbox_messages mm ON mm.delivery_id = d.id",
    );
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set(ids));
  });
});
