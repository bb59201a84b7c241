import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import {
  eventually,
  freePort,
  isolatedInfra,
  spawnService,
  startTcpProxy,
  waitForHttp,
  type IsolatedInfra,
  type RunningProcess,
  type TcpProxy,
} from "@correo/testkit";

/**
 * DESIGN: "The answer never waits for the broker." The submission service reaches
 * RabbitMQ through a real TCP proxy that the test stalls: the connection stays open
 * and no confirm comes back, as during a memory alarm. Every POST is answered 202
 * while the broker is stalled, and the outbox drains once it is back.
 */
let infra: IsolatedInfra;
let proxy: TcpProxy;
const running: RunningProcess[] = [];
let token: string;
let httpPort: number;
let submission: RunningProcess;

async function send(i: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "sender@example.test", to: "ana@example.test", subject: `stall ${i}`, text: `message ${i}` }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function sendAll(from: number, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = from;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < from + n) ids.push(await send(next++));
    }),
  );
  return ids;
}

async function count(sql: string): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>(sql);
  return rows[0]!.n;
}
const delivered = () => count("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'");
const inOutbox = () => count("SELECT count(*)::int AS n FROM outbox");

beforeAll(async () => {
  infra = await isolatedInfra("broker-stall");
  const amqp = new URL(infra.amqpUrl);
  proxy = await startTcpProxy({ host: amqp.hostname, port: Number(amqp.port || 5672) });
  const viaProxy = new URL(infra.amqpUrl);
  viaProxy.port = String(proxy.port);
  httpPort = await freePort();
  const env = { ...infra.env, OUTBOX_SWEEP_INTERVAL: "1s", LOG_LEVEL: "warn", RELAY_SMTP_PORT: "1" };
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
  // Only submission goes through the proxy; routing and mailbox reach RabbitMQ directly.
  submission = await start("submission", {
    AMQP_URL: viaProxy.toString(),
    SUBMISSION_HTTP_PORT: String(httpPort),
    SMTP_MX_PORT: String(await freePort()),
    SMTP_SUBMISSION_PORT: String(await freePort()),
    SMTPS_PORT: String(await freePort()),
  });
  await start("routing", {});
  await start("mailbox", {});
});

afterAll(async () => {
  proxy?.resume();
  await Promise.all(running.map((p) => p.stop()));
  await proxy?.close();
  await infra?.cleanup();
});

describe("a stalled broker", () => {
  it("answers 202 without waiting for confirms, keeps the events in the outbox and drains it when the broker is back", async () => {
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
    const { rows } = await infra.pool.query<{ message_id: string }>(
      "SELECT DISTINCT d.message_id FROM deliveries d JOIN mailbox_messages mm ON mm.delivery_id = d.id",
    );
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set([...before, ...stalled]));
  });
});
