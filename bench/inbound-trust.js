#!/usr/bin/env node
// Issue 14 item 7: what the MX's trust checks cost. `pnpm bench`'s SMTP MX ingest
// (smtp-source, 20 sessions, one connection per message, 4 KB) run alternately with
//   off:     VERIFY_INBOUND=off, no rspamd
//   verify:  VERIFY_INBOUND=on against a local resolver (a private dnsmasq publishing
//            SPF, DMARC, PTR and A records for the load's sender domain client.test)
//   rspamd:  verify + RSPAMD_URL (a private rspamd from Debian, testkit's startRspamd)
// and prints accept rate, end-to-end rate and CPU s per 1 000 messages (Correo's
// processes plus dnsmasq and rspamd, each counted as its own group).
//
//   node bench/inbound-trust.js [--messages 2000] [--rounds 2]
"use strict";
const { spawn } = require("node:child_process");
const { mkdtempSync, writeFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const root = join(__dirname, "..");
const { startRspamd, freePort } = require(join(root, "packages/testkit/dist/index.js"));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const MESSAGES = Number(opt("messages", 2000));
const ROUNDS = Number(opt("rounds", 2));
const say = (s) => process.stderr.write(`inbound-trust: ${s}\n`);

/** dnsmasq on a loopback high port answering for client.test (the load's MAIL FROM and HELO) and 127.0.0.1's PTR. */
async function startResolver() {
  const dir = mkdtempSync(join(tmpdir(), "correo-bench-dns-"));
  const port = await freePort();
  const conf = [
    "no-resolv", "no-hosts", "bind-interfaces", "listen-address=127.0.0.1", `port=${port}`, "local-ttl=300",
    "local=/test/", "local=/in-addr.arpa/",
    'txt-record=client.test,"v=spf1 ip4:127.0.0.1 -all"',
    'txt-record=_dmarc.client.test,"v=DMARC1; p=reject"',
    "host-record=client.test,127.0.0.1",
    "ptr-record=1.0.0.127.in-addr.arpa,client.test",
  ];
  writeFileSync(join(dir, "dnsmasq.conf"), conf.join("\n") + "\n");
  const child = spawn("dnsmasq", ["--keep-in-foreground", `--conf-file=${join(dir, "dnsmasq.conf")}`, `--pid-file=${join(dir, "pid")}`], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null) throw new Error("dnsmasq did not start");
  return { server: `127.0.0.1:${port}`, pid: child.pid, stop: () => (child.kill(), rmSync(dir, { recursive: true, force: true })) };
}

function bench(envs, trees) {
  const args = [join(__dirname, "run.js"), "--no-anchor", "--only", "ingest", "--messages", String(MESSAGES), ...envs.map((e) => `--env=${e}`), ...trees.map((t) => `--cpu-tree=${t}`)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench/run.js exited ${code}:\n${err.slice(-2000)}`));
      const line = (label) => out.split("\n").find((l) => l.startsWith(`| ${label}`))?.split("|").map((c) => c.trim());
      const acc = line("SMTP MX ingest, one connection per message: accepted");
      const e2e = line("SMTP MX ingest, one connection per message: readable");
      const groups = /Correo CPU s by group: ([^\n;]*)/.exec(out + err)?.[1] ?? "";
      resolve({ accepted: parseFloat(acc[2]), cpuAccepted: parseFloat(acc[5]), e2e: parseFloat(e2e[2]), cpuE2e: parseFloat(e2e[5]), groups });
    });
  });
}

async function main() {
  const dns = await startResolver();
  const rspamd = await startRspamd();
  const variants = {
    off: { env: ["VERIFY_INBOUND=off"], trees: [] },
    verify: { env: ["VERIFY_INBOUND=on", `DNS_SERVERS=${dns.server}`, "INBOUND_AUTH_POLICY=enforce"], trees: [`dnsmasq:${dns.pid}`] },
    rspamd: { env: ["VERIFY_INBOUND=on", `DNS_SERVERS=${dns.server}`, "INBOUND_AUTH_POLICY=enforce", `RSPAMD_URL=${rspamd.url}`], trees: [`dnsmasq:${dns.pid}`, `rspamd:${rspamd.pid}`] },
  };
  const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, v] of Object.entries(variants)) {
        say(`round ${round}: ${name}`);
        const r = await bench(v.env, v.trees);
        say(`  ${name}: accepted ${r.accepted} msg/s, end to end ${r.e2e} msg/s, CPU/1000 ${r.cpuE2e} s (${r.groups})`);
        results[name].push(r);
      }
    }
  } finally {
    await rspamd.stop();
    dns.stop();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results.off.map((r) => r.accepted));
  console.log(`| variant (${MESSAGES} messages, ${ROUNDS} alternating rounds, median) | accepted msg/s | vs off | end to end msg/s | CPU s / 1000 (end to end, all processes) |`);
  console.log("|---|---|---|---|---|");
  for (const [name, rs] of Object.entries(results)) {
    const acc = median(rs.map((r) => r.accepted));
    console.log(`| ${name} | ${acc.toFixed(1)} (${rs.map((r) => r.accepted).join(", ")}) | ${((acc / base) * 100).toFixed(0)} % | ${median(rs.map((r) => r.e2e)).toFixed(1)} | ${median(rs.map((r) => r.cpuE2e)).toFixed(2)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
