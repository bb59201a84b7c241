#!/usr/bin/env node
// What a spam check costs the MX: @correo/rspamd's client against a private rspamd
// (packages/testkit startRspamd: one normal worker, no plugins, nothing over the network)
// with CLIENTS checks in flight at once, as the MX's sessions would send them.
//
//   pnpm build && node bench/rspamd-check.js [seconds=10]
//   RSPAMD_BENCH_CLIENTS=20 node bench/rspamd-check.js 10
//
// Prints checks per second, latency p50/p99 and CPU seconds per 1 000 checks of rspamd's
// processes and of this client. The MX pays the latency once per message at the end of
// DATA; with rspamd's DNS lists and Bayes (its stock configuration) both grow.
"use strict";
const { join } = require("node:path");
const root = join(__dirname, "..");
const { startRspamd } = require(join(root, "packages/testkit/dist/index.js"));
const { RspamdClient } = require(join(root, "packages/rspamd/dist/index.js"));
const { meter, tree } = require("./cpu.js");

const seconds = Number(process.argv[2] ?? 10);
const clients = Number(process.env.RSPAMD_BENCH_CLIENTS ?? 20);

// A plain message of about 3 KB with a few links, as a newsletter or a reply would be.
const body = Array.from({ length: 40 }, (_, i) => `Línea ${i} del mensaje, con un enlace https://www.example.com/p/${i} y algo de texto.`).join("\r\n");
const message = Buffer.from(
  [
    "Received: from mx.sender.example (mx.sender.example [192.0.2.7]) by mx.correo.example",
    "From: Ana <ana@sender.example>",
    "To: bea@correo.example",
    "Subject: Novedades de diciembre",
    "Message-ID: <bench@sender.example>",
    "Date: Wed, 2 Dec 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    body,
    "",
  ].join("\r\n"),
);
const envelope = { ip: "192.0.2.7", helo: "mx.sender.example", from: "ana@sender.example", rcpt: ["bea@correo.example"], queueId: "bench" };

async function main() {
  const rspamd = await startRspamd();
  const client = new RspamdClient({ url: rspamd.url, timeoutMs: 5000 });
  try {
    // Warm up: connections, rspamd's first-task caches.
    await Promise.all(Array.from({ length: clients }, () => client.check(envelope, message)));
    const cpu = meter({ rspamd: () => tree(rspamd.pid).map((pid) => [pid, true]) });
    const latencies = [];
    let failures = 0;
    const before = cpu.sample();
    const selfBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < deadline) {
          const r = await client.check(envelope, message);
          if (r.outcome === "answer") latencies.push(r.durationMs);
          else failures++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const used = cpu.delta(before, cpu.sample());
    const self = process.cpuUsage(selfBefore);
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const per1000 = (s) => ((s / latencies.length) * 1000).toFixed(2);
    console.log(`| what | value |\n|---|---|`);
    console.log(`| checks per second (${clients} in flight, ${message.length} B message) | ${(latencies.length / elapsed).toFixed(1)} |`);
    console.log(`| latency p50 / p99 | ${at(0.5).toFixed(2)} / ${at(0.99).toFixed(2)} ms |`);
    console.log(`| rspamd CPU per 1 000 checks | ${per1000(used.rspamd)} s |`);
    console.log(`| client (Correo side) CPU per 1 000 checks | ${per1000((self.user + self.system) / 1e6)} s |`);
    console.log(`| failed checks | ${failures} |`);
  } finally {
    client.close();
    await rspamd.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
