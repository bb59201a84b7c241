#!/usr/bin/env node
// Messages per second relayed to Postfix's smtp-sink by relay-queue, next to Postfix
// relaying the same load to the same sink.
//
//   pnpm build && node bench/relay-smtp-sink.js [messages=2000] [copies=1] [concurrency=10]
//
// 1. Correo: `messages` messages (one recipient each, ~1 KiB) are accepted into the spool
//    of a database of their own and routed to remote (sink.test → smtp-sink by transport);
//    `copies` relay-queue processes are started from their build with
//    RELAY_DESTINATION_CONCURRENCY=`concurrency`; the clock starts when the
//    delivery.remote events are published and stops when PostgreSQL has every delivery
//    `delivered`.
// 2. Postfix (when run as root with postfix installed): a private instance in /tmp with
//    relayhost = the same sink and default_destination_concurrency_limit = `concurrency`;
//    the same number of messages is injected with smtp-source and held (HOLD), the clock
//    starts at `postsuper -H ALL` and stops when the sink has written every message.
"use strict";
const { execFile, spawn } = require("node:child_process");
const { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { promisify } = require("node:util");
const run = promisify(execFile);
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnService, waitForHttp } = require(join(root, "packages/testkit/dist/index.js"));
const { addTransport } = require(join(root, "packages/directory/dist/index.js"));
const { acceptMessage, Outbox, transition, systemClock } = require(join(root, "packages/spool/dist/index.js"));
const { Broker } = require(join(root, "packages/broker/dist/index.js"));
const { createLogger } = require(join(root, "packages/telemetry/dist/index.js"));

const total = Number(process.argv[2] ?? 2000);
const copies = Number(process.argv[3] ?? 1);
const concurrency = Number(process.argv[4] ?? 10);
const rate = (n, ms) => `${((n * 1000) / ms).toFixed(0)} msg/s (${n} in ${(ms / 1000).toFixed(2)} s)`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const body = "x".repeat(72) + "\r\n";

function startSink(port, dir) {
  chmodSync(dir, 0o777);
  const user = process.getuid() === 0 ? ["-u", "nobody"] : [];
  return spawn("smtp-sink", [...user, "-d", join(dir, "%M."), "-m", "500", `127.0.0.1:${port}`, "512"], { stdio: "ignore" });
}

async function correo(sinkPort) {
  const infra = await isolatedInfra("bench-relay");
  const log = createLogger("bench", "warn");
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  const outbox = new Outbox(infra.pool, broker, log);
  const procs = [];
  const opsPorts = [];
  try {
    await addTransport(infra.pool, "sink.test", "127.0.0.1", sinkPort);
    const events = [];
    for (let i = 0; i < total; i++) {
      const raw = Buffer.from(`From: <bench@correo.test>\r\nTo: <u${i}@sink.test>\r\nSubject: bench ${i}\r\nMessage-ID: <${i}.${Date.now()}@correo.test>\r\n\r\n${body.repeat(12)}`);
      const a = await acceptMessage(infra.pool, outbox, { raw, envelopeFrom: "bench@correo.test", recipients: [`u${i}@sink.test`], source: "smtp" }, { clock: systemClock, redriveAfterMs: 3_600_000 });
      const d = a.deliveries[0];
      await transition(infra.pool, d.deliveryId, { state: "routed", event: "routed", route: "remote", at: new Date(), nextAttemptAt: new Date(Date.now() + 3_600_000), response: "remote domain sink.test" });
      events.push({ type: "delivery.remote", version: 1, messageId: a.messageId, blobId: a.blobId, envelopeFrom: "bench@correo.test", domain: "sink.test", deliveries: [d] });
    }
    for (let c = 0; c < copies; c++) {
      const ops = await freePort();
      opsPorts.push(ops);
      const p = spawnService("relay-queue", { ...infra.env, LOG_LEVEL: "warn", OPS_PORT: String(ops), RELAY_DESTINATION_CONCURRENCY: String(concurrency) });
      procs.push(p);
      await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 30_000, p);
    }
    const t0 = Date.now();
    for (const e of events) await broker.publish(e);
    for (;;) {
      const { rows } = await infra.pool.query("SELECT count(*)::int AS n FROM deliveries WHERE state = 'delivered'");
      if (rows[0].n >= total) break;
      if (Date.now() - t0 > 600_000) throw new Error(`only ${rows[0].n} of ${total} delivered after 10 minutes`);
      await sleep(50);
    }
    const ms = Date.now() - t0;
    // A throttled delivery is put back without an attempt (and without a timeline
    // event): the relay's own counter is the one that sees them.
    let throttled = 0;
    for (const port of opsPorts) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      for (const m of text.matchAll(/^correo_relay_throttled_total(?:\{[^}]*\})? (\d+)/gm)) throttled += Number(m[1]);
    }
    return { ms, throttled };
  } finally {
    for (const p of procs) await p.stop();
    await broker.close();
    await infra.cleanup();
  }
}

async function postfix(sinkPort, sinkDir) {
  if (process.getuid() !== 0) return "skipped: needs root to run a Postfix instance";
  try {
    await run("postconf", ["-d", "mail_version"]);
  } catch {
    return "skipped: postfix is not installed";
  }
  const dir = mkdtempSync(join(tmpdir(), "correo-bench-postfix-"));
  chmodSync(dir, 0o755); // Postfix's daemons run as the postfix user
  const etc = join(dir, "etc");
  for (const d of ["etc", "queue", "data"]) mkdirSync(join(dir, d));
  const port = await freePort();
  const master = readFileSync("/etc/postfix/master.cf", "utf8")
    .split("\n")
    .map((line) => {
      if (/^smtp\s+inet\s/.test(line)) return `127.0.0.1:${port} inet n - n - - smtpd`;
      if (/^(submission|smtps|628|#)/.test(line)) return line;
      // No chroot: the private instance's queue is not set up as a chroot jail.
      const f = line.split(/\s+/);
      if (f.length >= 8 && /^(unix|inet|fifo|pass|unix-dgram)$/.test(f[1])) { f[4] = "n"; return f.join(" "); }
      return line;
    })
    .join("\n");
  writeFileSync(join(etc, "master.cf"), master);
  writeFileSync(join(etc, "main.cf"), [
    "compatibility_level = 3.6",
    `queue_directory = ${join(dir, "queue")}`,
    `data_directory = ${join(dir, "data")}`,
    `maillog_file = ${join(dir, "maillog")}`,
    `maillog_file_prefixes = ${tmpdir()}`,
    "inet_interfaces = 127.0.0.1",
    "inet_protocols = ipv4",
    "myhostname = bench.postfix.test",
    "mydestination =",
    "alias_maps =",
    "alias_database =",
    `relayhost = [127.0.0.1]:${sinkPort}`,
    "mynetworks = 127.0.0.0/8",
    "smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject",
    `default_destination_concurrency_limit = ${concurrency}`,
    "smtp_tls_security_level = none",
    "",
  ].join("\n"));
  const pf = (args) => run("postfix", ["-c", etc, ...args]);
  try {
    await pf(["set-permissions"]).catch(() => undefined);
    await pf(["start"]).catch((err) => {
      let log = "";
      try { log = readFileSync(join(dir, "maillog"), "utf8").slice(-2000); } catch {}
      throw new Error(`postfix start failed: ${err.message}\n${log}`);
    });
    const before = readdirSync(sinkDir).length;
    await run("smtp-source", ["-s", "20", "-m", String(total), "-l", String(body.length * 12), "-f", "bench@postfix.test", "-t", "u@sink.test", `127.0.0.1:${port}`], { timeout: 600_000 });
    for (;;) {
      const { stdout } = await run("postqueue", ["-c", etc, "-j"]);
      if (stdout.split("\n").filter(Boolean).length >= total) break;
      await sleep(100);
    }
    const t0 = Date.now();
    await run("postsuper", ["-c", etc, "-H", "ALL"]);
    await run("postqueue", ["-c", etc, "-f"]);
    for (;;) {
      if (readdirSync(sinkDir).length - before >= total) break;
      if (Date.now() - t0 > 600_000) throw new Error("Postfix did not relay everything within 10 minutes");
      await sleep(50);
    }
    return { ms: Date.now() - t0 };
  } finally {
    await pf(["stop"]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const sinkDir = mkdtempSync(join(tmpdir(), "correo-bench-sink-"));
  const sinkPort = await freePort();
  const sink = startSink(sinkPort, sinkDir);
  try {
    await sleep(300);
    const c = await correo(sinkPort);
    process.stdout.write(`correo relay-queue x${copies} → smtp-sink (destination concurrency ${concurrency}): ${rate(total, c.ms)}; throttle put-backs: ${c.throttled}\n`);
    const p = await postfix(sinkPort, sinkDir);
    if (typeof p === "string") process.stdout.write(`postfix → smtp-sink: ${p}\n`);
    else process.stdout.write(`postfix → smtp-sink (default_destination_concurrency_limit ${concurrency}): ${rate(total, p.ms)}\n`);
  } finally {
    sink.kill();
    rmSync(sinkDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { process.stderr.write(`${err.stack ?? err}\n`); process.exit(1); });
