#!/usr/bin/env node
// LOGIN cost with and without the login cache (AUTH_CACHE_TTL): a real retrieval
// process, started twice on a database of its own, once with AUTH_CACHE_TTL=0s (every
// login hashes its password with scrypt, as before the cache) and once with the
// default 5m. Clients behave as imaplib and poplib do: a new TCP connection, the
// greeting, `LOGIN user pass` (POP3: USER, PASS), LOGOUT (QUIT).
//
//   pnpm build && node bench/login-bench.js [rounds=30]
//   LOGIN_BENCH_CLIENTS=10 node bench/login-bench.js      # clients reconnecting at once (imaptest clients=10)
//
// Prints, per setting: IMAP LOGIN ms (sending LOGIN to its tagged OK) for the first
// login and the median and p95 of the next `rounds` sequential ones; the same with
// LOGIN_BENCH_CLIENTS clients logging in together; connect+LOGIN; POP3 USER+PASS.
"use strict";
const { connect, createServer } = require("node:net");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, spawnService, waitForHttp } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, addAccount } = require(join(root, "packages/directory/dist/index.js"));

const rounds = Number(process.argv[2] ?? 30);
const clients = Number(process.env.LOGIN_BENCH_CLIENTS ?? 10);
const USER = "login@bench.test";
const PASS = "login-bench-password";

// Ports from LOGIN_BENCH_PORT_BASE up (default 47300): never the kernel's pick, which
// could land on a range another run on this machine reserves.
let nextPort = Number(process.env.LOGIN_BENCH_PORT_BASE ?? 47300);
function canBind(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
async function port() {
  while (!(await canBind(nextPort))) nextPort++;
  return nextPort++;
}

/** A line-oriented client: `until(re)` resolves with what arrived once `re` matches. */
function lineClient(p) {
  const s = connect(p, "127.0.0.1");
  s.setNoDelay(true);
  let buf = "";
  let waiter;
  s.on("data", (d) => {
    buf += d.toString("latin1");
    if (waiter && waiter.re.test(buf)) {
      const w = waiter;
      waiter = undefined;
      w.resolve(buf);
    }
  });
  s.on("error", (err) => waiter?.reject(err));
  const until = (re) =>
    new Promise((resolve, reject) => {
      if (re.test(buf)) return resolve(buf);
      waiter = { re, resolve, reject };
    });
  return {
    until,
    async send(line, re) {
      buf = "";
      const started = performance.now();
      s.write(`${line}\r\n`);
      const out = await until(re);
      return { ms: performance.now() - started, out };
    },
    close: () => s.destroy(),
  };
}

/** imaplib's IMAP4(host, port).login(user, pass) then logout(): ms of LOGIN, and of connect + LOGIN. */
async function imapLogin(p) {
  const started = performance.now();
  const c = lineClient(p);
  await c.until(/^\* OK[^\r]*\r\n/);
  const login = await c.send(`a1 LOGIN ${USER} ${PASS}`, /(^|\r\n)a1 (OK|NO|BAD)[^\r]*\r\n$/);
  const total = performance.now() - started;
  if (!/a1 OK/.test(login.out)) throw new Error(`LOGIN refused: ${login.out}`);
  await c.send("a2 LOGOUT", /(^|\r\n)a2 OK[^\r]*\r\n$/);
  c.close();
  return { login: login.ms, total };
}

/** poplib's POP3(host, port).user(u); .pass_(p); .quit(): ms of USER + PASS. */
async function pop3Login(p) {
  const c = lineClient(p);
  await c.until(/^\+OK[^\r]*\r\n/);
  const user = await c.send(`USER ${USER}`, /^[+-][^\r]*\r\n$/);
  const pass = await c.send(`PASS ${PASS}`, /^[+-][^\r]*\r\n$/);
  if (!/^\+OK/.test(pass.out)) throw new Error(`PASS refused: ${pass.out}`);
  await c.send("QUIT", /^\+OK[^\r]*\r\n$/);
  c.close();
  return user.ms + pass.ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)];
};
const f = (ms) => `${ms.toFixed(1)} ms`;

async function measure(infra, ttl) {
  const ports = { imap: await port(), imaps: await port(), pop3: await port(), pop3s: await port(), http: await port(), ops: await port() };
  const proc = spawnService("retrieval", {
    ...infra.env,
    LOG_LEVEL: "warn",
    IMAP_PORT: String(ports.imap),
    IMAPS_PORT: String(ports.imaps),
    POP3_PORT: String(ports.pop3),
    POP3S_PORT: String(ports.pop3s),
    RETRIEVAL_HTTP_PORT: String(ports.http),
    OPS_PORT: String(ports.ops),
    AUTH_CACHE_TTL: ttl,
  });
  try {
    await waitForHttp(`http://127.0.0.1:${ports.ops}/readyz`, 30_000, proc);
    const first = await imapLogin(ports.imap);
    const sequential = [];
    const totals = [];
    for (let i = 0; i < rounds; i++) {
      const r = await imapLogin(ports.imap);
      sequential.push(r.login);
      totals.push(r.total);
    }
    const concurrent = [];
    for (let i = 0; i < Math.max(1, Math.floor(rounds / clients)); i++) {
      const rs = await Promise.all(Array.from({ length: clients }, () => imapLogin(ports.imap)));
      concurrent.push(...rs.map((r) => r.login));
    }
    const pop3 = [];
    for (let i = 0; i < rounds; i++) pop3.push(await pop3Login(ports.pop3));
    return { first: first.login, sequential, totals, concurrent, pop3 };
  } finally {
    await proc.stop();
  }
}

async function main() {
  const infra = await isolatedInfra("bench-login");
  try {
    await addDomain(infra.pool, "bench.test");
    await addAccount(infra.pool, USER, PASS);
    const rows = [];
    for (const [label, ttl] of [
      ["AUTH_CACHE_TTL=0s (every login runs scrypt: before)", "0s"],
      ["AUTH_CACHE_TTL=5m (the default: after)", "5m"],
    ]) {
      const r = await measure(infra, ttl);
      rows.push([label, r]);
      console.log(label);
      console.log(`  IMAP LOGIN, first                          ${f(r.first)}`);
      console.log(`  IMAP LOGIN, ${rounds} reconnects (median / p95)   ${f(median(r.sequential))} / ${f(p95(r.sequential))}`);
      console.log(`  IMAP connect + LOGIN (median)              ${f(median(r.totals))}`);
      console.log(`  IMAP LOGIN, ${clients} clients at once (median / p95) ${f(median(r.concurrent))} / ${f(p95(r.concurrent))}`);
      console.log(`  POP3 USER + PASS (median)                  ${f(median(r.pop3))}`);
    }
    console.log("");
    console.log(`| | IMAP LOGIN, first | IMAP LOGIN, reconnect (median / p95) | connect + LOGIN | ${clients} clients at once (median / p95) | POP3 USER + PASS |`);
    console.log("|---|---|---|---|---|---|");
    for (const [label, r] of rows) {
      console.log(
        `| ${label} | ${f(r.first)} | ${f(median(r.sequential))} / ${f(p95(r.sequential))} | ${f(median(r.totals))} | ${f(median(r.concurrent))} / ${f(p95(r.concurrent))} | ${f(median(r.pop3))} |`,
      );
    }
  } finally {
    await infra.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
