#!/usr/bin/env node
"use strict";
/**
 * POP3 login and RETR speed, the two POP3 lines of issue 13's table, on one mailbox for
 * one or more builds of retrieval, alternating:
 *
 *   node bench/pop3-speed.js [--messages 10000] [--rounds 3] [--retr 1000] [--prof DIR] [main.js …]
 *
 * Fills an INBOX of a database of its own (the `pnpm bench` corpus in /tmp when it is
 * there, `--corpus DIR`; else generated 2–20 KB messages) through the mailstore's
 * append, starts each retrieval build (default: this checkout's) in turn on free ports
 * from POP3_BENCH_PORT_BASE (47400) and runs poplib as bench/retrieval.py does: connect +
 * USER + PASS (reconnects, through the login cache), then RETR 1..N in one session.
 * Prints medians. `--prof DIR`: each retrieval runs under `node --cpu-prof` into DIR.
 */
const fs = require("node:fs");
const { spawn } = require("node:child_process");
const { createServer } = require("node:net");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, spawnProcess, waitForHttp } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, addAccount } = require(join(root, "packages/directory/dist/index.js"));
const { MailStore } = require(join(root, "packages/mailstore/dist/index.js"));

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const MESSAGES = Number(opt("messages", 10000));
const ROUNDS = Number(opt("rounds", 3));
const RETR = Number(opt("retr", 1000));
const PROF = opt("prof", undefined);
const CORPUS = opt("corpus", `/tmp/correo-bench-corpus-${MESSAGES}`);
const builds = argv.length ? argv : [join(root, "services/retrieval/dist/main.js")];
const USER = "pop3@bench.test";
const PASS = "pop3-bench-password";

let nextPort = Number(process.env.POP3_BENCH_PORT_BASE ?? 47400);
const canBind = (port) =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
async function port() {
  while (!(await canBind(nextPort))) nextPort++;
  return nextPort++;
}

function generated(i) {
  const size = 2000 + ((i * 7919) % 18000);
  const line = "The quick brown fox jumps over the lazy dog, message " + i + ".\r\n";
  return Buffer.from(`From: bench@client.test\r\nTo: ${USER}\r\nSubject: bench ${i}\r\nMessage-ID: <${i}@bench.test>\r\n\r\n${line.repeat(Math.ceil(size / line.length))}`);
}

async function fill(pool, accountId) {
  const files = fs.existsSync(CORPUS) ? fs.readdirSync(CORPUS).filter((f) => f.endsWith(".eml")).sort().slice(0, MESSAGES) : [];
  const store = new MailStore({ pool });
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        const raw = files[i] ? fs.readFileSync(join(CORPUS, files[i])) : generated(i);
        await store.append(accountId, "INBOX", raw);
      }
    }),
  );
  await pool.query("VACUUM ANALYZE mailbox_messages");
  return files.length ? `corpus ${CORPUS}` : "generated messages";
}

const POPLIB = `
import json, poplib, sys, time
a = json.loads(sys.argv[1])
logins = []
for _ in range(a['logins']):
    t = time.perf_counter()
    p = poplib.POP3('127.0.0.1', a['port'])
    p.user(a['user']); p.pass_(a['password'])
    logins.append(time.perf_counter() - t)
    p.quit()
p = poplib.POP3('127.0.0.1', a['port'])
p.user(a['user']); p.pass_(a['password'])
t = time.perf_counter(); p.stat(); stat = time.perf_counter() - t
t = time.perf_counter(); p.uidl(); uidl = time.perf_counter() - t
t = time.perf_counter()
for i in range(1, a['retr'] + 1): p.retr(i)
retr = time.perf_counter() - t
p.quit()
print(json.dumps({'logins': logins, 'stat': stat, 'uidl': uidl, 'retr': retr}))
`;

function poplib(p) {
  return new Promise((resolve, reject) => {
    const args = JSON.stringify({ port: p, user: USER, password: PASS, logins: 10, retr: RETR });
    const py = spawn("python3", ["-c", POPLIB, args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    py.stdout.on("data", (b) => (out += b));
    py.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`poplib exited ${code}`))));
  });
}

async function once(infra, main) {
  const ports = { imap: await port(), imaps: await port(), pop3: await port(), pop3s: await port(), http: await port(), ops: await port() };
  const flags = PROF ? ["--cpu-prof", `--cpu-prof-dir=${PROF}`] : [];
  const proc = spawnProcess("retrieval", [...flags, main], {
    ...infra.env,
    LOG_LEVEL: "warn",
    IMAP_PORT: String(ports.imap),
    IMAPS_PORT: String(ports.imaps),
    POP3_PORT: String(ports.pop3),
    POP3S_PORT: String(ports.pop3s),
    RETRIEVAL_HTTP_PORT: String(ports.http),
    OPS_PORT: String(ports.ops),
    AUTH_CACHE_TTL: "5m",
  });
  try {
    await waitForHttp(`http://127.0.0.1:${ports.ops}/readyz`, 30_000, proc);
    await poplib(ports.pop3); // warm
    return await poplib(ports.pop3);
  } finally {
    await proc.stop(10_000);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;

async function main() {
  const infra = await isolatedInfra("pop3bench");
  try {
    await addDomain(infra.pool, "bench.test");
    const account = await addAccount(infra.pool, USER, PASS);
    const started = Date.now();
    const source = await fill(infra.pool, account.id);
    process.stderr.write(`pop3-speed: ${MESSAGES} messages (${source}) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const results = builds.map(() => []);
    for (let r = 0; r < ROUNDS; r++) for (const [i, b] of builds.entries()) results[i].push(await once(infra, b));
    console.log(`| build | connect + USER + PASS (median of ${10 * ROUNDS}) | STAT | UIDL ${MESSAGES} | RETR × ${RETR} (median of ${ROUNDS}) |`);
    console.log("|---|---|---|---|---|");
    for (const [i, b] of builds.entries()) {
      const rs = results[i];
      console.log(`| ${b} | ${ms(median(rs.flatMap((x) => x.logins)))} | ${ms(median(rs.map((x) => x.stat)))} | ${ms(median(rs.map((x) => x.uidl)))} | ${ms(median(rs.map((x) => x.retr)))} |`);
    }
  } finally {
    await infra.cleanup();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
