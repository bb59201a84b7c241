import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import {
  eventually,
  freePort,
  isolatedInfra,
  spawnService,
  waitForHttp,
  type IsolatedInfra,
  type RunningProcess,
} from "@correo/testkit";

/**
 * DESIGN: "Accepted means durable" and "every consumer is idempotent and acks late".
 * Each consumer service is SIGKILLed while messages are in flight and started again;
 * every accepted message must then be in its mailbox exactly once.
 */
const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"] as const;
type Service = (typeof services)[number];

let infra: IsolatedInfra;
const env: Record<string, string> = {};
const ops: Record<string, number> = {};
const running = new Map<Service, RunningProcess>();
let token: string;
let httpPort: number;

async function start(name: Service): Promise<void> {
  const proc = spawnService(name, { ...env, OPS_PORT: String(ops[name]) });
  running.set(name, proc);
  await waitForHttp(`http://127.0.0.1:${ops[name]}/readyz`, 30_000, proc);
}

async function kill(name: Service): Promise<void> {
  await running.get(name)!.kill();
}

async function send(i: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      from: "sender@example.test",
      to: ["ana@example.test", "bea@example.test"],
      subject: `crash test ${i}`,
      text: `message ${i}`,
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function deliveredCount(): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'");
  return rows[0]!.n;
}

beforeAll(async () => {
  infra = await isolatedInfra("crash");
  httpPort = await freePort();
  Object.assign(env, infra.env, {
    SUBMISSION_HTTP_PORT: String(httpPort),
    POP3_PORT: String(await freePort()),
    OUTBOX_SWEEP_INTERVAL: "1s",
    REDRIVE_INTERVAL: "2s",
    // Long enough that only late acks (not the re-drive sweeper) can save in-flight work here.
    REDRIVE_AFTER: "10m",
    RELAY_SMTP_PORT: "1",
    LOG_LEVEL: "warn",
  });
  for (const s of services) ops[s] = await freePort();
  await addDomain(infra.pool, "example.test");
  await addAccount(infra.pool, "ana@example.test", "correct horse");
  await addAccount(infra.pool, "bea@example.test", "correct horse");
  token = (await createApiKey(infra.pool, "example.test")).token;
  for (const s of services) await start(s);
});

afterAll(async () => {
  await Promise.all([...running.values()].map((p) => p.stop()));
  await infra.cleanup();
});

describe("crash safety", () => {
  it("delivers every accepted message exactly once while each consumer is SIGKILLed mid-flight", async () => {
    const accepted: string[] = [];
    const batch = async (from: number, n: number) => {
      accepted.push(...(await Promise.all(Array.from({ length: n }, (_, k) => send(from + k)))));
    };

    // Routing dies with a backlog: events wait in its queue, unacked ones are redelivered.
    await kill("routing");
    await batch(0, 30);
    await start("routing");
    await eventually(async () => (await deliveredCount()) > 0, 20_000, "first deliveries");
    await kill("routing");
    await start("routing");

    // The mailbox dies in the middle of a backlog it is working through.
    await kill("mailbox");
    await batch(30, 30);
    await start("mailbox");
    await eventually(async () => {
      const n = await deliveredCount();
      return n > 60 && n < 120;
    }, 20_000, "mailbox part-way through its backlog");
    await kill("mailbox");
    await batch(60, 20);
    await start("mailbox");

    // The relay queue and retrieval consume too (remote deliveries, mailbox.changed): kill and restart them under load.
    const more = batch(80, 20);
    await kill("relay-queue");
    await kill("retrieval");
    await more;
    await start("relay-queue");
    await start("retrieval");

    expect(accepted).toHaveLength(100);
    await eventually(async () => (await deliveredCount()) === 200, 60_000, "all 200 deliveries delivered");

    const { rows } = await infra.pool.query<{ delivery_id: string; copies: number }>(
      `SELECT d.id AS delivery_id, count(mm.id)::int AS copies
         FROM deliveries d LEFT JOIN mailbox_messages mm ON mm.delivery_id = d.id
        WHERE d.message_id = ANY($1::uuid[]) GROUP BY d.id`,
      [accepted],
    );
    expect(rows).toHaveLength(200);
    expect(rows.filter((r) => r.copies !== 1)).toEqual([]);
    const perBox = await infra.pool.query<{ address: string; n: number; uids: number }>(
      `SELECT a.address, count(*)::int AS n, count(DISTINCT mm.uid)::int AS uids
         FROM mailbox_messages mm JOIN mailboxes b ON b.id = mm.mailbox_id JOIN accounts a ON a.id = b.account_id
        GROUP BY a.address ORDER BY a.address`,
    );
    expect(perBox.rows).toEqual([
      { address: "ana@example.test", n: 100, uids: 100 },
      { address: "bea@example.test", n: 100, uids: 100 },
    ]);
    const { rows: outbox } = await infra.pool.query("SELECT count(*)::int AS n FROM outbox");
    await eventually(async () => (await infra.pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n === 0, 15_000, "outbox drained").catch(() => {
      throw new Error(`outbox still holds ${outbox[0].n} events`);
    });
  });
});
