#!/usr/bin/env node
// Memory (PSS) of the five services idle and loaded, and CPU seconds per 1 000 messages
// of HTTP submission → routing → mailbox.
//
//   pnpm build && node bench/memory-bench.js [messages=1000] [in-flight=20] [idle-seconds=20]
//
// Starts Correo the way `pnpm start` does (scripts/dist/start.js, five processes) on free
// ports with a database and prefix of its own, waits `idle-seconds` after "ready", reads
// each service's PSS from /proc/<pid>/smaps_rollup, then posts `messages` messages to
// POST /v1/messages (10 local accounts, round robin) and waits until every one is in a
// mailbox. "loaded" is the highest PSS sampled (every 250 ms) while that ran. CPU is
// utime+stime from /proc/<pid>/stat of each service, and of the PostgreSQL backends
// connected to this run's database (RabbitMQ and Redis are shared with other users of
// the machine, so they are left out). Environment is passed on: e.g. OTEL_SDK_DISABLED=true
// measures the services without OpenTelemetry; OTEL_EXPORTER_OTLP_ENDPOINT exports spans;
// CORREO_ROOT=/path/to/other/checkout runs that checkout's build (e.g. before a change).
"use strict";
const { readFileSync, readdirSync } = require("node:fs");
const { join } = require("node:path");
const { servicesRoot, correoPackage, numberArgs, sleep } = require("./checkout.js");
const { isolatedInfra, freePort, spawnProcess, eventually } = correoPackage("testkit");
const { serviceSpecs } = correoPackage("config");
const { addDomain, addAccount, createApiKey } = correoPackage("directory");

const [total, inFlight, idleSeconds] = numberArgs(1000, 20, 20);
const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"];
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

function pss(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { pss: kb("Pss"), anon: kb("Pss_Anon"), file: kb("Pss_File"), rss: kb("Rss") };
}

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICK; // utime, stime (fields 14 and 15)
  } catch {
    return undefined; // gone
  }
}

/** The five service processes, children of the `pnpm start` runner, by name. */
function servicePids(parent) {
  const found = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const name = services.find((s) => cmd.includes(`/services/${s}/dist/main.js`));
      if (name) found[name] = Number(entry);
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

const mb = (kb) => (kb / 1024).toFixed(1);

/** Seconds spent in garbage collection so far, from the service's own /metrics (runtime instrumentation). */
async function gcSeconds(opsPort) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    let sum = 0;
    for (const m of text.matchAll(/^v8js_gc_duration(?:_seconds)?_sum\{[^}]*\} ([0-9.e+-]+)/gm)) sum += Number(m[1]);
    return sum;
  } catch {
    return NaN;
  }
}

async function main() {
  const infra = await isolatedInfra("bench-memory");
  const env = { ...infra.env, CORREO_LOG_FORMAT: "json", LOG_LEVEL: "warn", RELAY_SMTP_PORT: "1" };
  for (const spec of Object.values(serviceSpecs)) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_") && !(variable in env)) env[variable] = String(await freePort());
    }
  }
  for (const s of services) env[`${s.toUpperCase().replace(/-/g, "_")}_OPS_PORT`] = String(await freePort());
  const start = spawnProcess("pnpm-start", [join(servicesRoot, "scripts", "dist", "start.js")], env);
  const dbName = new URL(infra.databaseUrl).pathname.slice(1);
  try {
    await eventually(async () => {
      if (start.child.exitCode !== null) throw new Error(`pnpm start exited:\n${start.output().slice(-4000)}`);
      return start.output().includes("all five services are ready");
    }, 90_000, "all five services ready");
    const pids = servicePids(start.child.pid);
    if (Object.keys(pids).length !== 5) throw new Error(`found ${JSON.stringify(pids)}, not five services`);
    const idleCpu0 = services.reduce((a, s) => a + cpuSeconds(pids[s]), 0);
    await sleep(idleSeconds * 1000);
    const idleCpu = services.reduce((a, s) => a + cpuSeconds(pids[s]), 0) - idleCpu0;
    const idle = Object.fromEntries(services.map((s) => [s, pss(pids[s])]));
    const runner = pss(start.child.pid);

    const accounts = Array.from({ length: 10 }, (_, i) => `user${i}@example.test`);
    await addDomain(infra.pool, "example.test");
    for (const a of accounts) await addAccount(infra.pool, a, "bench-password-1");
    const { token } = await createApiKey(infra.pool, "example.test");

    // PostgreSQL backends of this database come and go with the pools' idle timeout:
    // keep the last CPU reading of each one seen.
    const backendCpu = new Map(); // pid -> [first, last]
    const sampleBackends = async () => {
      const { rows } = await infra.pool.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [dbName]);
      for (const { pid } of rows) {
        const c = cpuSeconds(pid);
        if (c === undefined) continue;
        const seen = backendCpu.get(pid);
        if (seen) seen[1] = c;
        else backendCpu.set(pid, [c, c]);
      }
    };
    await sampleBackends();
    const peak = Object.fromEntries(services.map((s) => [s, { ...idle[s] }]));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const s of services) {
          const now = pss(pids[s]);
          if (now.pss > peak[s].pss) peak[s] = now;
        }
        await sampleBackends().catch(() => undefined);
        await sleep(250);
      }
    })();
    const opsPort = (s) => env[`${s.toUpperCase().replace(/-/g, "_")}_OPS_PORT`];
    const gcBefore = Object.fromEntries(await Promise.all(services.map(async (s) => [s, await gcSeconds(opsPort(s))])));
    const xacts = async () => Number((await infra.pool.query("SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1", [dbName])).rows[0].n);
    const xactBefore = await xacts();
    const cpuBefore = Object.fromEntries(services.map((s) => [s, cpuSeconds(pids[s])]));
    const t0 = Date.now();
    let next = 0;
    let failed = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const i = next++;
        const res = await fetch(`http://127.0.0.1:${env.SUBMISSION_HTTP_PORT}/v1/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ from: accounts[0], to: accounts[i % accounts.length], subject: `bench ${i}`, text: "a".repeat(4096) }),
        });
        if (res.status !== 202) failed++;
        await res.arrayBuffer();
      }
    }));
    const acceptedMs = Date.now() - t0;
    const expected = total - failed;
    await eventually(async () => Number((await infra.pool.query("SELECT count(*) AS n FROM mailbox_messages")).rows[0].n) >= expected, 600_000, "every message in a mailbox");
    const doneMs = Date.now() - t0;
    const xactCount = (await xacts()) - xactBefore;
    await sampleBackends();
    const cpuAfter = Object.fromEntries(services.map((s) => [s, cpuSeconds(pids[s])]));
    const gcAfter = Object.fromEntries(await Promise.all(services.map(async (s) => [s, await gcSeconds(opsPort(s))])));
    sampling = false;
    await sampler;
    const after = Object.fromEntries(services.map((s) => [s, pss(pids[s])]));

    const per1000 = (s) => (expected ? (s * 1000) / expected : 0);
    const telemetry = process.env.OTEL_SDK_DISABLED === "true" ? "off (OTEL_SDK_DISABLED)" : process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? `on, OTLP to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : "on, spans dropped";
    console.log(`memory bench (${servicesRoot}): ${total} messages over HTTP, ${inFlight} in flight, 4 KiB text, 10 accounts; idle after ${idleSeconds} s; telemetry ${telemetry}`);
    console.log(`accepted in ${(acceptedMs / 1000).toFixed(1)} s, all in mailboxes after ${(doneMs / 1000).toFixed(1)} s${failed ? `; ${failed} not accepted` : ""}`);
    console.log("");
    console.log("| service | PSS idle MB (anon + file) | PSS loaded (peak) MB | PSS after MB | CPU s / 1000 msgs | of which GC |");
    console.log("|---|---|---|---|---|---|");
    let sums = { idle: 0, peak: 0, after: 0, cpu: 0, gc: 0 };
    for (const s of services) {
      const cpu = per1000(cpuAfter[s] - cpuBefore[s]);
      const gc = per1000(gcAfter[s] - gcBefore[s]);
      sums = { idle: sums.idle + idle[s].pss, peak: sums.peak + peak[s].pss, after: sums.after + after[s].pss, cpu: sums.cpu + cpu, gc: sums.gc + gc };
      console.log(`| ${s} | ${mb(idle[s].pss)} (${mb(idle[s].anon)} + ${mb(idle[s].file)}) | ${mb(peak[s].pss)} | ${mb(after[s].pss)} | ${cpu.toFixed(2)} | ${Number.isNaN(gc) ? "n/a" : gc.toFixed(2)} |`);
    }
    const pgCpu = per1000([...backendCpu.values()].reduce((a, [first, last]) => a + (last - first), 0));
    console.log(`| **five services** | **${mb(sums.idle)}** | **${mb(sums.peak)}** | ${mb(sums.after)} | **${sums.cpu.toFixed(2)}** | ${Number.isNaN(sums.gc) ? "n/a" : sums.gc.toFixed(2)} |`);
    console.log(`| PostgreSQL backends of this database | | | | ${pgCpu.toFixed(2)} | |`);
    console.log(`PostgreSQL transactions per message (all clients of this database, stats may lag): ${(xactCount / Math.max(expected, 1)).toFixed(1)}; five services idle: ${(idleCpu / idleSeconds * 100).toFixed(1)} % of a core`);
    console.log(`(the pnpm start runner itself: ${mb(runner.pss)} MB PSS, not counted)`);
  } finally {
    await start.stop(15_000);
    await infra.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
