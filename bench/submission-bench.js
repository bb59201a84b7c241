#!/usr/bin/env node
// Accepted messages per second through the submission service, next to the raw
// PostgreSQL insert rate measured in the same run on the same server.
//
//   pnpm build && node bench/submission-bench.js [messages=2000] [sessions=20]
//
// Starts services/submission from its build on free ports with its own database and
// prefix, then measures, one after the other:
//   1. raw PostgreSQL: one-row INSERT + COMMIT, `sessions` connections in parallel;
//   2. SMTP: Postfix's smtp-source, `sessions` sessions, against the MX listener;
//   3. HTTP: POST /v1/messages with `sessions` requests in flight.
// Each accepted message is a committed transaction (blob, message, delivery, event,
// outbox row) plus a RabbitMQ publish with confirm, so (1) is the ceiling.
"use strict";
const { execFile } = require("node:child_process");
const { join } = require("node:path");
const { promisify } = require("node:util");
const run = promisify(execFile);
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnService, waitForHttp, eventually } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, addAccount, createApiKey } = require(join(root, "packages/directory/dist/index.js"));

const total = Number(process.argv[2] ?? 2000);
const sessions = Number(process.argv[3] ?? 20);
const { readFileSync } = require("node:fs");
const rate = (n, ms) => `${((n * 1000) / ms).toFixed(0)} msg/s (${n} in ${(ms / 1000).toFixed(2)} s)`;

/** utime + stime of one process in seconds (/proc/<pid>/stat fields 14 and 15); 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/**
 * CPU spent by the submission process and by the PostgreSQL backends of the bench's
 * database (sampled every 200 ms, so that backends that come and go are counted).
 * RabbitMQ and Redis are shared with other users of this machine: not counted.
 */
function cpuMeter(servicePid, db) {
  const seen = new Map();
  const serviceStart = cpuSeconds(servicePid);
  const sample = async () => {
    const { rows } = await db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    for (const { pid } of rows) {
      const now = cpuSeconds(pid);
      const s = seen.get(pid);
      if (s) s.last = Math.max(s.last, now);
      else seen.set(pid, { first: now, last: now });
    }
  };
  const timer = setInterval(() => void sample().catch(() => undefined), 200);
  void sample();
  return async () => {
    await sample().catch(() => undefined);
    clearInterval(timer);
    let backends = 0;
    for (const s of seen.values()) backends += s.last - s.first;
    return { service: cpuSeconds(servicePid) - serviceStart, backends };
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function pool(n, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++); }));
}

async function main() {
  const infra = await isolatedInfra("bench-submission");
  const ports = { http: await freePort(), mx: await freePort(), sub: await freePort(), smtps: await freePort(), ops: await freePort() };
  const service = spawnService("submission", {
    ...infra.env, LOG_LEVEL: "warn",
    SUBMISSION_HTTP_PORT: String(ports.http), SMTP_MX_PORT: String(ports.mx), SMTP_SUBMISSION_PORT: String(ports.sub),
    SMTPS_PORT: String(ports.smtps), OPS_PORT: String(ports.ops), SMTP_MAX_CONNECTIONS_PER_IP: String(sessions * 2),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${ports.ops}/healthz`, 30_000, service);
    // /readyz answers 200 only once every listener is up.
    await waitForHttp(`http://127.0.0.1:${ports.ops}/readyz`, 30_000, service);
    await addDomain(infra.pool, "example.test");
    await addAccount(infra.pool, "ana@example.test", "bench-password-1");
    const { token } = await createApiKey(infra.pool, "example.test");
    const count = async () => Number((await infra.pool.query("SELECT count(*) AS n FROM messages")).rows[0].n);
    console.log(`submission bench: ${total} messages, ${sessions} in parallel, ${require("node:os").cpus().length} CPUs`);

    await infra.pool.query("CREATE TABLE bench_insert (id bigserial PRIMARY KEY, body bytea NOT NULL, at timestamptz NOT NULL DEFAULT now())");
    const body = Buffer.alloc(1024, 0x61);
    let t = Date.now();
    await pool(total, sessions, () => infra.pool.query("INSERT INTO bench_insert (body) VALUES ($1)", [body]));
    const pgMs = Date.now() - t;
    console.log(`raw PostgreSQL insert (1 row, 1 KiB, autocommit): ${rate(total, pgMs)}`);

    // smtp-source: -s parallel sessions, -m messages, -l size in bytes; with -d each session
    // keeps its connection for the next message, without it every message is a new connection
    // (which smtp-server greets only after 100 ms, its early-talker check).
    let smtpRate = 0;
    for (const reuse of process.env.BENCH_SKIP_SMTP ? [] : [false, true]) {
      const before = await count();
      const t0 = Date.now();
      const args = ["-s", String(sessions), "-m", String(total), "-l", "1024", "-f", "bob@remote.test", "-t", "ana@example.test"];
      await run("smtp-source", [...(reuse ? ["-d"] : []), ...args, `127.0.0.1:${ports.mx}`], { maxBuffer: 1 << 24 });
      const ms = Date.now() - t0;
      const accepted = (await count()) - before;
      if (reuse) smtpRate = accepted / ms;
      console.log(`SMTP MX listener (smtp-source -s ${sessions}${reuse ? " -d, connections reused" : ", one connection per message"}, 1 KiB): ${rate(accepted, ms)}${accepted === total ? "" : ` — only ${accepted} of ${total} accepted`}`);
    }

    const before = await count();
    t = Date.now();
    let failed = 0;
    const latencies = [];
    const meter = cpuMeter(service.child.pid, infra.pool);
    await pool(total, sessions, async (i) => {
      const started = process.hrtime.bigint();
      const res = await fetch(`http://127.0.0.1:${ports.http}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ from: "ana@example.test", to: "ana@example.test", subject: `bench ${i}`, text: "a".repeat(1024) }),
      });
      if (res.status !== 202) failed++;
      await res.arrayBuffer();
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    });
    const httpMs = Date.now() - t;
    const cpu = await meter();
    const httpAccepted = (await count()) - before;
    latencies.sort((a, b) => a - b);
    console.log(`HTTP POST /v1/messages (${sessions} in flight, 1 KiB text): ${rate(httpAccepted, httpMs)}${failed ? ` — ${failed} failed` : ""}`);
    console.log(`  latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
    const per1000 = (s) => ((s * 1000) / Math.max(1, httpAccepted)).toFixed(2);
    console.log(`  CPU s per 1000 messages: submission ${per1000(cpu.service)}, its PostgreSQL backends ${per1000(cpu.backends)}`);
    console.log(`ratio to raw insert: SMTP (-d) ${(smtpRate / (total / pgMs) * 100).toFixed(0)} %, HTTP ${((httpAccepted / httpMs) / (total / pgMs) * 100).toFixed(0)} %`);
  } finally {
    await service.stop();
    await infra.cleanup();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
