#!/usr/bin/env node
// Webhook figures of issue 15, against a Correo of its own (`pnpm start`: five processes):
//
//   pnpm build && node bench/webhooks-bench.js [events=5000] [messages=1000] [clients=20] [rounds=2]
//
// 1. delivery: `events` timeline rows ('accepted', written in bulk the way the accept
//    statement writes them) for a domain with one endpoint, a local receiver (node:http,
//    every signature checked) answering 200; events/s from the first POST to the last.
// 2. submission: POST /v1/messages to a local mailbox, `clients` requests in flight,
//    `messages` per round, alternately with no endpoint and with one (every event type);
//    accepted messages/s of each, and the ratio.
// Services run with their defaults (WEBHOOK_DISPATCH_INTERVAL 200ms included); arguments
// after the fourth are VARIABLE=value settings for them, e.g. WEBHOOK_DISPATCH_INTERVAL=50ms.
// Phase 1 also prints CPU per event by process and WAL bytes per event (the whole
// cluster's: run it with nothing else writing).
"use strict";
const http = require("node:http");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnProcess, eventually } = require(join(root, "packages/testkit/dist/index.js"));
const { serviceSpecs } = require(join(root, "packages/config/dist/index.js"));
const dir = require(join(root, "packages/directory/dist/index.js"));
const { createEndpoint, deleteEndpoint } = require(join(root, "packages/webhooks/dist/index.js"));
const { verifySignature } = require(join(root, "packages/signed-post/dist/index.js"));

const EVENTS = Number(process.argv[2] ?? 5000);
const MESSAGES = Number(process.argv[3] ?? 1000);
const CLIENTS = Number(process.argv[4] ?? 20);
const ROUNDS = Number(process.argv[5] ?? 2);
const say = (s) => process.stderr.write(`webhooks-bench: ${s}\n`);
const fs = require("node:fs");
const { meter, correoGroupsOf } = require("./cpu.js");

/** CPU seconds (utime + stime) of the process whose command line ends with `suffix`, or of this one. */
function cpuOf(suffix) {
  for (const d of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      if (suffix && !fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim().endsWith(suffix)) continue;
      if (!suffix && Number(d) !== process.pid) continue;
      const f = fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return NaN;
}

async function startCorreo() {
  const infra = await isolatedInfra("bench-webhooks");
  const env = { ...infra.env, LOG_LEVEL: "warn", CORREO_LOG_FORMAT: "json", RELAY_SMTP_PORT: "1", WEBHOOK_ALLOW_HTTP: "true", ...Object.fromEntries(process.argv.slice(6).map((a) => a.split(/=(.*)/s).slice(0, 2))) };
  for (const spec of Object.values(serviceSpecs)) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_")) env[variable] = String(await freePort());
    }
  }
  for (const s of ["submission", "routing", "relay-queue", "mailbox", "retrieval"]) env[`${s.toUpperCase().replace(/-/g, "_")}_OPS_PORT`] = String(await freePort());
  const start = spawnProcess("pnpm-start", [join(root, "scripts", "dist", "start.js")], env);
  await eventually(async () => {
    if (start.child.exitCode !== null) throw new Error(`pnpm start exited:\n${start.output().slice(-3000)}`);
    return start.output().includes("all five services are ready");
  }, 90_000, "all five services ready");
  return { infra, env, start };
}

function startReceiver(secretRef) {
  const seen = new Set();
  let first = 0, last = 0, bad = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const ok = verifySignature(req.headers["correo-signature"], secretRef.secret, body, new Date()).valid;
      if (!ok) bad++;
      if (!first) first = performance.now();
      last = performance.now();
      seen.add(req.headers["correo-event-id"]);
      res.writeHead(ok ? 200 : 400).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    url: `http://127.0.0.1:${server.address().port}/hook`,
    seen, bad: () => bad, window: () => last - first, reset() { seen.clear(); first = last = 0; bad = 0; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  })));
}

async function main() {
  const { infra, env, start } = await startCorreo();
  const pool = infra.pool;
  try {
    await dir.addDomain(pool, "bench.test");
    await dir.addAccount(pool, "user1@bench.test", "bench-secret-1");
    const { token } = await dir.createApiKey(pool, "bench.test");
    const secretRef = { secret: "" };
    const receiver = await startReceiver(secretRef);

    // ---- 1. delivery rate ----
    const made = await createEndpoint(pool, "bench.test", { url: receiver.url, eventTypes: ["accepted"] }, { allowHttp: true, now: new Date() });
    secretRef.secret = made.secret;
    await pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, 1, 'x') ON CONFLICT DO NOTHING", ["0".repeat(64)]);
    const relayCpu0 = cpuOf(join(root, "services/relay-queue/dist/main.js")), benchCpu0 = cpuOf();
    const cpu = meter(correoGroupsOf(infra, start.child.pid));
    const burst0 = cpu.sample();
    const lsn = async () => (await pool.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l;
    const lsn0 = await lsn();
    const t0 = performance.now();
    await pool.query(
      `WITH m AS (
         INSERT INTO messages (id, blob_id, envelope_from, header_message_id, size, source, api_key_id)
         SELECT gen_random_uuid(), $2, 'bench@bench.test', '<' || g || '@bench.test>', 1, 'http', (SELECT id FROM api_keys LIMIT 1)
           FROM generate_series(1, $1) g RETURNING id
       ), d AS (
         INSERT INTO deliveries (id, message_id, recipient, state, route, next_attempt_at)
         SELECT gen_random_uuid(), id, 'x@remote.test', 'queued', 'remote', now() + interval '1 day' FROM m RETURNING id
       )
       INSERT INTO delivery_events (delivery_id, event) SELECT id, 'accepted' FROM d`,
      [EVENTS, "0".repeat(64)],
    );
    say(`${EVENTS} timeline rows written in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await eventually(async () => receiver.seen.size >= EVENTS, 300_000, `${EVENTS} events received`);
    const deliveryRate = (EVENTS * 1000) / receiver.window();
    const relayCpu = cpuOf(join(root, "services/relay-queue/dist/main.js")) - relayCpu0, benchCpu = cpuOf() - benchCpu0;
    const burst = cpu.delta(burst0, cpu.sample());
    // WAL of the whole cluster (other databases' writes included: run it alone).
    const wal = Number((await pool.query("SELECT pg_wal_lsn_diff($1, $2)::bigint AS d", [await lsn(), lsn0])).rows[0].d);
    console.log(`relay-queue CPU: ${relayCpu.toFixed(2)} s for ${EVENTS} events (${(EVENTS / relayCpu).toFixed(0)} events per CPU second); receiver + bench: ${benchCpu.toFixed(2)} s; load average ${require("node:os").loadavg()[0].toFixed(1)} on ${require("node:os").cpus().length} cores`);
    console.log(`webhook delivery: ${deliveryRate.toFixed(0)} events/s (${EVENTS} in ${(receiver.window() / 1000).toFixed(2)} s, first to last POST; ${receiver.bad()} bad signatures)`);
    // The timeline rows' own insert is in PostgreSQL's figure too (a small share: one statement).
    console.log(`WAL per event delivered: ${(wal / EVENTS).toFixed(0)} bytes (the timeline rows' insert included)`);
    console.log(`CPU ms per event delivered, all processes but the receiver: ${Object.entries(burst).map(([g, v]) => `${g} ${((v * 1000) / EVENTS).toFixed(3)}`).join(", ")}`);
    await deleteEndpoint(pool, made.endpoint.id);

    // ---- 2. submission with webhooks off / on ----
    const url = `http://127.0.0.1:${env.SUBMISSION_HTTP_PORT}/v1/messages`;
    const body = JSON.stringify({ from: "user1@bench.test", to: "user1@bench.test", subject: "bench", text: "webhooks on or off\r\n" });
    const cpuBy = { off: [], on: [] };
    async function round(kind) {
      let next = 0;
      const t = performance.now();
      const c0 = cpu.sample();
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        while (next++ < MESSAGES) {
          const res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body });
          if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
        }
      }));
      if (kind) cpuBy[kind].push(cpu.delta(c0, cpu.sample()));
      return (MESSAGES * 1000) / (performance.now() - t);
    }
    await round(); // warm-up
    const off = [], on = [];
    for (let r = 0; r < ROUNDS; r++) {
      off.push(await round("off"));
      const e = await createEndpoint(pool, "bench.test", { url: receiver.url }, { allowHttp: true, now: new Date() });
      secretRef.secret = e.secret;
      receiver.reset();
      on.push(await round("on"));
      await deleteEndpoint(pool, e.endpoint.id);
    }
    const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    console.log(`submission, webhooks off: ${avg(off).toFixed(0)} msg/s (rounds: ${off.map((x) => x.toFixed(0)).join(", ")})`);
    console.log(`submission, webhooks on:  ${avg(on).toFixed(0)} msg/s (rounds: ${on.map((x) => x.toFixed(0)).join(", ")}); on/off = ${(avg(on) / avg(off)).toFixed(3)}`);
    // CPU over each round's window (the pipeline behind submission included), per 1 000 messages.
    for (const kind of ["off", "on"]) {
      const sum = {};
      for (const d of cpuBy[kind]) for (const [g, v] of Object.entries(d)) sum[g] = (sum[g] ?? 0) + v;
      const per = (v) => ((v * 1000) / (MESSAGES * cpuBy[kind].length)).toFixed(2);
      console.log(`CPU s per 1 000 messages, webhooks ${kind}: ${Object.entries(sum).map(([g, v]) => `${g} ${per(v)}`).join(", ")}`);
    }
    await receiver.close();
  } finally {
    await start.stop(15_000);
    await infra.cleanup();
  }
}
main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
