import { connect } from "node:net";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import {
  allowConnections,
  closeAmqpConnections,
  eventually,
  freePort,
  isolatedInfra,
  killRedisClients,
  spawnService,
  startTcpProxy,
  terminateBackends,
  terminateIdleInTransaction,
  waitForHttp,
  type IsolatedInfra,
  type RunningProcess,
  type TcpProxy,
} from "@correo/testkit";

/**
 * DESIGN: no service may die because PostgreSQL, RabbitMQ or Redis goes away. The five
 * services run as processes while mail flows; each server then drops their
 * connections (PostgreSQL terminates their backends, mid-transaction included; Redis
 * CLIENT KILL; RabbitMQ close_connection) and refuses new ones for a while (the
 * database's ALLOW_CONNECTIONS, a TCP proxy in front of Redis and RabbitMQ). Every
 * process stays alive, /readyz says not ready meanwhile and ready after, and every
 * accepted message is delivered, without any restart.
 */
const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"] as const;
type Service = (typeof services)[number];

let infra: IsolatedInfra;
let amqpProxy: TcpProxy;
let redisProxy: TcpProxy;
const running = new Map<Service, RunningProcess>();
const ops: Record<string, number> = {};
let token: string;
let httpPort: number;
let mxPort: number;
const accepted: string[] = [];

async function post(i: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${httpPort}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "sender@example.test", to: "ana@example.test", subject: `fault ${i}`, text: `message ${i}` }),
  });
}

let sent = 0;
/** Mail flowing in the background: two clients posting one message after another; 202s are recorded. */
function flow(): { stop(): Promise<{ ok: number; refused: Record<number, number> }> } {
  let stopping = false;
  const refused: Record<number, number> = {};
  let ok = 0;
  const client = async () => {
    while (!stopping) {
      try {
        const res = await post(sent++);
        if (res.status === 202) {
          accepted.push(((await res.json()) as { id: string }).id);
          ok++;
        } else {
          refused[res.status] = (refused[res.status] ?? 0) + 1;
          await res.arrayBuffer();
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const clients = [client(), client()];
  return {
    async stop() {
      stopping = true;
      await Promise.all(clients);
      return { ok, refused };
    },
  };
}

/** One message over the MX listener, as another server would send it; resolves with the final reply. */
function smtpSend(port: number, to: string, subject: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const script = ["EHLO peer.test", "MAIL FROM:<peer@remote.test>", `RCPT TO:<${to}>`, "DATA", `Subject: ${subject}\r\n\r\nhello\r\n.`, "QUIT"];
    let buffer = "";
    let last = "";
    socket.on("data", (d) => {
      buffer += d.toString();
      // A complete reply: its last line is "NNN text".
      while (/^\d{3} .*\r\n/m.test(buffer)) {
        const end = buffer.search(/^\d{3} .*\r\n/m);
        const line = buffer.slice(end).split("\r\n")[0]!;
        buffer = buffer.slice(end + line.length + 2);
        last = line;
        const next = script.shift();
        if (next === undefined || /^[45]/.test(line)) {
          socket.end();
          resolve(line);
          return;
        }
        socket.write(next + "\r\n");
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(last));
  });
}

async function ready(name: Service): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${ops[name]}/readyz`);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

function expectAllAlive(): void {
  for (const [name, proc] of running) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${name} died (exit ${proc.child.exitCode}, signal ${proc.child.signalCode}):\n${proc.output().slice(-3000)}`);
    }
  }
}

/** Waits until every one of `names` answers /readyz with `status`; fails at once when a process has died. */
async function waitReadiness(names: readonly Service[], status: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    expectAllAlive();
    if ((await Promise.all(names.map(ready))).every((s) => s === status)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function delivered(): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'");
  return rows[0]!.n;
}

/** Every 202 so far (and `extra` more) delivered to the mailbox. */
async function everythingDelivered(extra = 0): Promise<void> {
  await eventually(async () => (await delivered()) === accepted.length + extra, 90_000, "every accepted message delivered");
}

const pids = () => new Set([...running.values()].map((p) => String(p.child.pid)));

beforeAll(async () => {
  infra = await isolatedInfra("infra-faults");
  const amqp = new URL(infra.amqpUrl);
  amqpProxy = await startTcpProxy({ host: amqp.hostname, port: Number(amqp.port || 5672) });
  const redis = new URL(infra.redisUrl);
  redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const viaAmqp = new URL(infra.amqpUrl);
  viaAmqp.port = String(amqpProxy.port);
  const viaRedis = new URL(infra.redisUrl);
  viaRedis.port = String(redisProxy.port);
  httpPort = await freePort();
  mxPort = await freePort();
  const env: Record<string, string> = {
    ...infra.env,
    AMQP_URL: viaAmqp.toString(),
    REDIS_URL: viaRedis.toString(),
    SUBMISSION_HTTP_PORT: String(httpPort),
    SMTP_MX_PORT: String(mxPort),
    SMTP_SUBMISSION_PORT: String(await freePort()),
    SMTPS_PORT: String(await freePort()),
    POP3_PORT: String(await freePort()),
    POP3S_PORT: String(await freePort()),
    IMAP_PORT: String(await freePort()),
    IMAPS_PORT: String(await freePort()),
    RETRIEVAL_HTTP_PORT: String(await freePort()),
    OUTBOX_SWEEP_INTERVAL: "1s",
    REDRIVE_INTERVAL: "2s",
    REDRIVE_AFTER: "10s",
    RELAY_SMTP_PORT: "1",
    LOG_LEVEL: "warn",
  };
  await addDomain(infra.pool, "example.test");
  await addAccount(infra.pool, "ana@example.test", "correct horse");
  token = (await createApiKey(infra.pool, "example.test")).token;
  for (const s of services) {
    ops[s] = await freePort();
    const proc = spawnService(s, { ...env, OPS_PORT: String(ops[s]) });
    running.set(s, proc);
    await waitForHttp(`http://127.0.0.1:${ops[s]}/readyz`, 30_000, proc);
  }
});

afterAll(async () => {
  if (infra) await allowConnections(infra.databaseUrl, true).catch(() => undefined);
  amqpProxy?.refuse(false);
  redisProxy?.refuse(false);
  await Promise.all([...running.values()].map((p) => p.stop()));
  await amqpProxy?.close();
  await redisProxy?.close();
  await infra?.cleanup();
});

describe("PostgreSQL, Redis and RabbitMQ going away", () => {
  it("PostgreSQL: backends terminated mid-transaction (57P01) and the database refusing connections kill no service", async () => {
    const load = flow();
    await eventually(async () => (await delivered()) >= 10, 60_000, "mail flowing");
    // What a restart does to a client between two queries of its transaction: the case that ended mailbox.
    const hits = await terminateIdleInTransaction(infra.databaseUrl, 5, 30_000);
    expect(hits).toBeGreaterThan(0);
    await terminateBackends(infra.databaseUrl);

    // Down for a while: no service can reconnect.
    await allowConnections(infra.databaseUrl, false);
    await terminateBackends(infra.databaseUrl);
    await waitReadiness(services, 503, "every service not ready while PostgreSQL is away");
    // README: 503 with Retry-After, problem+json, nothing kept.
    const refused = await post(sent++);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    await refused.arrayBuffer();
    expectAllAlive();
    await allowConnections(infra.databaseUrl, true);
    await waitReadiness(services, 200, "every service ready again");
    const { ok } = await load.stop();
    expect(ok).toBeGreaterThan(0);
    expectAllAlive();
    for (let i = 0; i < 5; i++) expect((await post(sent++).then(async (r) => (r.status === 202 && accepted.push(((await r.json()) as { id: string }).id), r.status)))).toBe(202);
    await everythingDelivered();
    expectAllAlive();
  });

  it("Redis: connections killed (CLIENT KILL) and Redis refusing connections kill no service", async () => {
    const mine = pids();
    const load = flow();
    await eventually(async () => (await delivered()) >= accepted.length - 5, 60_000, "mail flowing");
    redisProxy.refuse(true);
    const killed = await killRedisClients(infra.redisUrl, (name) => /^correo-[a-z-]+-(\d+)$/.test(name) && mine.has(name.split("-").pop()!));
    // submission, relay-queue and retrieval hold a Redis connection each.
    expect(killed).toBeGreaterThanOrEqual(3);
    await waitReadiness(["submission", "relay-queue", "retrieval"], 503, "Redis users not ready while Redis is away");
    expectAllAlive();
    redisProxy.refuse(false);
    await waitReadiness(services, 200, "every service ready again");
    await load.stop();
    expect(await smtpSend(mxPort, "ana@example.test", "after Redis")).toMatch(/^221|^250/);
    await everythingDelivered(1);
    expectAllAlive();
  });

  it("RabbitMQ: connections closed by the broker and the broker refusing connections kill no service; mail accepted meanwhile is delivered", async () => {
    const mine = pids();
    const before = await delivered();
    const load = flow();
    await eventually(async () => (await delivered()) > before + 5, 60_000, "mail flowing");
    amqpProxy.refuse(true);
    const ours = (name: string) => {
      const pid = name.split(" ").pop()!;
      return mine.has(pid) && (name.startsWith(`correo ${hostname()} `) || name.startsWith("correo metrics "));
    };
    // A clean close from the broker (320 CONNECTION_FORCED, as at a broker shutdown) for some, a cut socket for the rest.
    expect(await closeAmqpConnections(ours)).toBeGreaterThanOrEqual(5);
    amqpProxy.dropConnections();
    await waitReadiness(services, 503, "every service not ready while RabbitMQ is away");
    const during = accepted.length;
    // Accepting goes on: the events wait in the outbox.
    await eventually(async () => accepted.length > during + 5, 30_000, "messages accepted while RabbitMQ is away");
    expectAllAlive();
    amqpProxy.refuse(false);
    await waitReadiness(services, 200, "every service ready again");
    await load.stop();
    await everythingDelivered(1);
    expectAllAlive();
  });
});
