#!/usr/bin/env node
// Routing and relay-queue together, to Postfix's smtp-sink: messages per second end to end
// and CPU seconds per 1 000 messages of each process and of the PostgreSQL backends.
//
//   pnpm build && node bench/route-relay.js [messages=2000] [alias|direct] [concurrency=10]
//   BENCH_CPU_PROF=/tmp/prof node bench/route-relay.js …   (a .cpuprofile per service)
//
// `messages` one-recipient messages (~1 KiB) are accepted into the spool of a database of
// their own, to `fwd@hosted.test` (an alias of `u@sink.test`: the issue's "smtp-source → MX
// → alias → remote" path without the SMTP ingest) or straight to `u<i>@sink.test`;
// sink.test goes to smtp-sink by transport. Their message.submitted events are held
// back; routing and relay-queue start from their build; the clock starts when the events
// are published and stops when PostgreSQL has every remote delivery `delivered`. CPU is
// utime+stime from /proc of the two service processes and of every PostgreSQL backend
// connected to the bench's database (RabbitMQ and Redis are shared with other work on
// this machine and are not counted).
"use strict";
const { spawn } = require("node:child_process");
const { chmodSync, mkdtempSync, readFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnProcess, waitForHttp } = require(join(root, "packages/testkit/dist/index.js"));
const { addAlias, addDomain, addTransport } = require(join(root, "packages/directory/dist/index.js"));
const { acceptInTransaction, Outbox, systemClock } = require(join(root, "packages/spool/dist/index.js"));
const { Broker } = require(join(root, "packages/broker/dist/index.js"));
const { createLogger } = require(join(root, "packages/telemetry/dist/index.js"));

const total = Number(process.argv[2] ?? 2000);
const mode = process.argv[3] ?? "alias";
const concurrency = Number(process.argv[4] ?? 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const body = "x".repeat(72) + "\r\n";
const TICKS = 100; // USER_HZ

/** utime + stime of a process, in seconds; 0 when it is gone. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
}

async function backends(pool) {
  const { rows } = await pool.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  return rows.map((r) => r.pid);
}

async function main() {
  if (mode !== "alias" && mode !== "direct") throw new Error("mode is alias or direct");
  const sinkDir = mkdtempSync(join(tmpdir(), "correo-bench-sink-"));
  chmodSync(sinkDir, 0o777);
  const sinkPort = await freePort();
  const user = process.getuid() === 0 ? ["-u", "nobody"] : [];
  const sink = spawn("smtp-sink", [...user, "-m", "500", `127.0.0.1:${sinkPort}`, "512"], { stdio: "ignore" });
  const infra = await isolatedInfra("bench-route-relay");
  const log = createLogger("bench", "warn");
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  const procs = [];
  try {
    await broker.connect();
    const outbox = new Outbox(infra.pool, broker, log);
    await addTransport(infra.pool, "sink.test", "127.0.0.1", sinkPort);
    await addDomain(infra.pool, "hosted.test");
    await addAlias(infra.pool, "fwd@hosted.test", ["u@sink.test"]);
    const pending = [];
    for (let i = 0; i < total; i++) {
      const to = mode === "alias" ? "fwd@hosted.test" : `u${i}@sink.test`;
      const raw = Buffer.from(`From: <bench@correo.test>\r\nTo: <${to}>\r\nSubject: bench ${i}\r\nMessage-ID: <${i}.${Date.now()}@correo.test>\r\n\r\n${body.repeat(12)}`);
      const a = await acceptInTransaction(infra.pool, outbox, { raw, envelopeFrom: "bench@correo.test", recipients: [to], source: "smtp" }, { clock: systemClock, redriveAfterMs: 3_600_000 });
      pending.push(a.pending);
    }
    // Held back in memory: the outbox sweeper must not publish them before the clock starts.
    await infra.pool.query("DELETE FROM outbox");

    const env = { ...infra.env, LOG_LEVEL: "warn", RELAY_DESTINATION_CONCURRENCY: String(concurrency) };
    for (const service of ["relay-queue", "routing"]) {
      const ops = await freePort();
      // BENCH_CPU_PROF=<dir>: each service writes a V8 CPU profile there when it stops.
      const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
      const p = spawnProcess(service, [...prof, join(root, "services", service, "dist", "main.js")], { ...env, OPS_PORT: String(ops) });
      procs.push(p);
      await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 60_000, p);
    }
    await sleep(500);
    const before = new Map();
    for (const pid of [...procs.map((p) => p.child.pid), ...(await backends(infra.pool))]) before.set(pid, cpuOf(pid));

    const t0 = Date.now();
    await outbox.publish(pending);
    for (;;) {
      const { rows } = await infra.pool.query("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered' AND route = 'remote'");
      if (rows[0].n >= total) break;
      if (Date.now() - t0 > 600_000) throw new Error(`only ${rows[0].n} of ${total} delivered after 10 minutes`);
      await sleep(50);
    }
    const ms = Date.now() - t0;
    const per1000 = (pid) => ((cpuOf(pid) - (before.get(pid) ?? 0)) * 1000) / total;
    const [routingProc, relayProc] = [procs[1], procs[0]];
    const pg = (await backends(infra.pool)).reduce((sum, pid) => sum + per1000(pid), 0);
    const r = per1000(routingProc.child.pid);
    const q = per1000(relayProc.child.pid);
    const timeouts = procs.map((p) => (p.output().match(/timeout exceeded when trying to connect/g) ?? []).length).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `route+relay (${mode}) → smtp-sink, ${total} messages, destination concurrency ${concurrency}: ` +
        `${((total * 1000) / ms).toFixed(0)} msg/s (${(ms / 1000).toFixed(2)} s); ` +
        `CPU s per 1000 msgs: routing ${r.toFixed(2)}, relay-queue ${q.toFixed(2)}, PostgreSQL backends ${pg.toFixed(2)}, sum ${(r + q + pg).toFixed(2)}; ` +
        `pool timeouts logged: ${timeouts}\n`,
    );
  } finally {
    for (const p of procs) await p.stop();
    await broker.close();
    await infra.cleanup();
    sink.kill();
    rmSync(sinkDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { process.stderr.write(`${err.stack ?? err}\n`); process.exit(1); });
