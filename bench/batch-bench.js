#!/usr/bin/env node
// How long POST /v1/messages/batch takes to accept 500 messages (issue 15 item 9: under 1 s).
//
//   pnpm build && node bench/batch-bench.js [rounds=5] [size=500]
//
// Starts services/submission from its build on free ports with its own database and
// prefix, stores a template, then sends `rounds` batches of `size` messages, each with
// its own recipient and variables (one warm-up batch first, not counted), and prints
// the time from request to the whole answer, and that every item was accepted (202)
// and committed (one messages row each). Each item is one durable accept as in
// POST /v1/messages: blob, message, delivery, event and outbox row in one statement.
"use strict";
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnService, waitForHttp } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, createApiKey } = require(join(root, "packages/directory/dist/index.js"));

const { readFileSync } = require("node:fs");
const rounds = Number(process.argv[2] ?? 5);

/** utime + stime of one process in ms (/proc/<pid>/stat fields 14 and 15): a figure a loaded machine does not inflate as much as wall time. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ is 100 on Linux
}
const size = Number(process.argv[3] ?? 500);

async function main() {
  const infra = await isolatedInfra("bench-batch");
  const ports = { http: await freePort(), mx: await freePort(), sub: await freePort(), smtps: await freePort(), ops: await freePort() };
  const service = spawnService("submission", {
    ...infra.env, LOG_LEVEL: "warn",
    SUBMISSION_HTTP_PORT: String(ports.http), SMTP_MX_PORT: String(ports.mx), SMTP_SUBMISSION_PORT: String(ports.sub),
    SMTPS_PORT: String(ports.smtps), OPS_PORT: String(ports.ops),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${ports.ops}/readyz`, 30_000, service);
    await addDomain(infra.pool, "example.test");
    const { token } = await createApiKey(infra.pool, "example.test");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const base = `http://127.0.0.1:${ports.http}`;
    const tpl = await fetch(`${base}/v1/templates`, {
      method: "POST", headers,
      body: JSON.stringify({ name: "receipt", subject: "Receipt {{order.id}} for {{first_name}}", text: "Hello {{first_name}},\n{{#each order.items}}- {{name}} x{{qty}}\n{{/each}}", html: "<p>Hello {{first_name}}</p><ul>{{#each order.items}}<li>{{name}} x{{qty}}</li>{{/each}}</ul>" }),
    });
    if (tpl.status !== 201) throw new Error(`template: ${tpl.status} ${await tpl.text()}`);
    const count = async () => Number((await infra.pool.query("SELECT count(*) AS n FROM messages")).rows[0].n);
    const batch = (round) => ({
      messages: Array.from({ length: size }, (_, i) => ({
        from: "Shop <shop@example.test>", to: `customer${round}-${i}@remote.test`, template: "receipt",
        variables: { first_name: `Customer ${i}`, order: { id: `R${round}-${i}`, items: [{ name: "tea", qty: 2 }, { name: "café", qty: 1 }] } },
        tags: ["bench"], metadata: { round: String(round) },
      })),
    });
    const os = require("node:os");
    console.log(`batch bench: ${rounds} batches of ${size} templated messages, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    const times = [];
    const cpus = [];
    for (let round = 0; round <= rounds; round++) {
      const body = JSON.stringify(batch(round));
      const before = await count();
      const cpu0 = cpuMs(service.child.pid);
      const t0 = performance.now();
      const res = await fetch(`${base}/v1/messages/batch`, { method: "POST", headers, body });
      const answer = await res.json();
      const ms = performance.now() - t0;
      const cpu = cpuMs(service.child.pid) - cpu0;
      const committed = (await count()) - before;
      if (res.status !== 200 || answer.accepted !== size || committed !== size) {
        throw new Error(`round ${round}: HTTP ${res.status}, ${answer.accepted} accepted, ${committed} committed of ${size}`);
      }
      if (round === 0) { console.log(`  warm-up: ${ms.toFixed(0)} ms`); continue; }
      times.push(ms);
      cpus.push(cpu);
      console.log(`  batch ${round}: ${size} accepted in ${ms.toFixed(0)} ms (submission's CPU ${cpu} ms)`);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    cpus.sort((a, b) => a - b);
    console.log(`submission's CPU per batch: median ${cpus[Math.floor(cpus.length / 2)]} ms`);
    console.log(`batch of ${size}: median ${median.toFixed(0)} ms, worst ${times.at(-1).toFixed(0)} ms (${((size * 1000) / median).toFixed(0)} msg/s) — ${times.at(-1) < 1000 ? "under" : "NOT under"} 1 s`);
  } finally {
    await service.stop();
    await infra.cleanup();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
