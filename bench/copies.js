#!/usr/bin/env node
// One copy of every service against two (issue 16 item 3): the same ingest load, msg/s
// and CPU seconds per 1 000 messages summed over all processes.
//
//   pnpm build && node bench/copies.js [messages=2000] [clients=20] [rounds=1]
//
// For each setting (1 copy, then 2 copies of each of the five services) it makes a
// database and broker/Redis prefix of its own, runs the migrations, starts the copies
// from their builds (each its own listener ports and ops port, as docs/operations.md
// "Many copies" says), and sends `messages` messages: half over HTTP POST /v1/messages
// (keep-alive, `clients` in flight) and half over the MX listener with Postfix's
// smtp-source (`clients` sessions, a new connection per message), each spread evenly
// over the copies' listeners, to four local mailboxes. The clock runs from the first
// message until every one is in a mailbox (`mailbox_messages`). CPU is read from /proc
// (bench/cpu.js) over the same interval: every service process, and of the shared
// servers the PostgreSQL backends of this database plus the cluster's background
// processes, RabbitMQ's beam.smp and Redis (which also carry other clients' work on a
// shared machine). `rounds` alternates 1 and 2 copies that many times.
"use strict";
const { execFile } = require("node:child_process");
const { join } = require("node:path");
const { promisify } = require("node:util");
const { root, servicesRoot, correoPackage, numberArgs } = require("./checkout.js");
const { meter, correoGroupsOf } = require("./cpu.js");
const { isolatedInfra, freePort, spawnProcess, waitForHttp, eventually } = correoPackage("testkit");
const { serviceSpecs } = correoPackage("config");
const { addDomain, addAccount, createApiKey } = correoPackage("directory");

const run = promisify(execFile);
const [total, clients, rounds] = numberArgs(2000, 20, 1);
const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"];
const DOMAIN = "copies.bench.test";
const users = ["u1", "u2", "u3", "u4"].map((u) => `${u}@${DOMAIN}`);
const say = (s) => process.stderr.write(`copies: ${s}\n`);

/** Every listener of one copy on a free port, as e2e/harness.ts does. */
async function copyEnv(base) {
  const env = { ...base };
  for (const spec of Object.values(serviceSpecs)) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_")) env[variable] = String(await freePort());
    }
  }
  const ops = {};
  for (const s of services) ops[s] = await freePort();
  return { env, ops };
}

async function startCopies(count) {
  const infra = await isolatedInfra(`bench-copies-${count}`);
  const base = {
    ...infra.env,
    LOG_LEVEL: "warn",
    CORREO_LOG_FORMAT: "json",
    RELAY_SMTP_PORT: "1",
    SMTP_MAX_CONNECTIONS_PER_IP: String(clients * 5),
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("BENCH_ENV_")).map(([k, v]) => [k.slice(10), v])),
  };
  const migrate = spawnProcess("migrate", [join(root, "scripts", "dist", "migrate.js")], base);
  if ((await migrate.exited) !== 0) throw new Error(`migrate failed:\n${migrate.output().slice(-3000)}`);
  await addDomain(infra.pool, DOMAIN);
  for (const u of users) await addAccount(infra.pool, u, "bench-secret-1");
  const { token } = await createApiKey(infra.pool, DOMAIN);
  const copies = [];
  const procs = [];
  for (let i = 0; i < count; i++) {
    const { env, ops } = await copyEnv(base);
    for (const s of services) {
      const p = spawnProcess(`${s}#${i + 1}`, [join(servicesRoot, "services", s, "dist", "main.js")], { ...env, OPS_PORT: String(ops[s]) });
      procs.push(p);
      await waitForHttp(`http://127.0.0.1:${ops[s]}/readyz`, 90_000, p);
    }
    copies.push({ http: Number(env.SUBMISSION_HTTP_PORT), mx: Number(env.SMTP_MX_PORT) });
  }
  const groups = correoGroupsOf(infra, process.pid);
  return {
    infra,
    copies,
    token,
    meter: meter(groups),
    delivered: async () => Number((await infra.pool.query("SELECT count(*)::int AS n FROM mailbox_messages")).rows[0].n),
    async stop() {
      await Promise.all(procs.map((p) => p.stop(15_000)));
      await infra.cleanup();
    },
  };
}

async function httpLoad(sys, n) {
  const body = (i) => JSON.stringify({ from: `bench@${DOMAIN}`, to: [users[i % users.length]], subject: `bench ${i}`, text: "lorem ipsum dolor sit amet consectetur\r\n".repeat(50) });
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const { http } = sys.copies[k % sys.copies.length];
      while (next < n) {
        const i = next++;
        const res = await fetch(`http://127.0.0.1:${http}/v1/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${sys.token}`, "content-type": "application/json" },
          body: body(i),
        });
        await res.arrayBuffer();
        if (res.status !== 202) failed++;
      }
    }),
  );
  return failed;
}

/** smtp-source to each copy's MX, its share of the messages and of the sessions. */
async function smtpLoad(sys, n) {
  const k = sys.copies.length;
  await Promise.all(
    sys.copies.map((c, i) => {
      const share = Math.floor(n / k) + (i < n % k ? 1 : 0);
      const sessions = Math.max(1, Math.round(clients / k));
      return run("smtp-source", ["-l", "2048", "-f", "bench@client.test", "-M", "client.test", "-s", String(sessions), "-m", String(share), "-t", users[i % users.length], `127.0.0.1:${c.mx}`], { maxBuffer: 1 << 24 });
    }),
  );
}

async function measure(count) {
  say(`starting ${count} cop${count === 1 ? "y" : "ies"} of every service`);
  const sys = await startCopies(count);
  try {
    const before = sys.meter.sample();
    const t0 = performance.now();
    const [failed] = await Promise.all([httpLoad(sys, Math.ceil(total / 2)), smtpLoad(sys, Math.floor(total / 2))]);
    if (failed) say(`${failed} HTTP requests not answered 202`);
    await eventually(async () => (await sys.delivered()) >= total - failed, 300_000, `${total} messages in the mailboxes`);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = sys.meter.delta(before, sys.meter.sample());
    const per1000 = (s) => (s * 1000) / total;
    const servicesCpu = services.reduce((n, s) => n + cpu[s], 0);
    return {
      copies: count,
      rate: total / seconds,
      seconds,
      total: per1000(cpu.total),
      services: per1000(servicesCpu),
      detail: Object.fromEntries(Object.entries(cpu).filter(([k]) => k !== "total").map(([k, v]) => [k, per1000(v)])),
    };
  } finally {
    await sys.stop();
  }
}

async function main() {
  const results = [];
  for (let r = 0; r < rounds; r++) for (const count of [1, 2]) results.push(await measure(count));
  const f = (x) => x.toFixed(2);
  const lines = [
    `${total} messages (half HTTP, half SMTP MX via smtp-source), ${clients} clients, to 4 local mailboxes; machine: ${require("node:os").cpus().length} cores`,
    "",
    "| copies of each service | msg/s (accept → mailbox) | CPU s / 1000 msgs, all processes | of which the services | submission | routing | mailbox | relay-queue + retrieval | PostgreSQL | RabbitMQ | Redis |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.copies} | ${r.rate.toFixed(0)} | ${f(r.total)} | ${f(r.services)} | ${f(r.detail.submission)} | ${f(r.detail.routing)} | ${f(r.detail.mailbox)} | ${f(r.detail["relay-queue"] + r.detail.retrieval)} | ${f(r.detail.postgres)} | ${f(r.detail.rabbitmq)} | ${f(r.detail.redis)} |`,
    ),
  ];
  process.stdout.write(lines.join("\n") + "\n");
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
