#!/usr/bin/env node
// `pnpm bench`: the benchmark suite of issue 11 against a Correo of its own, and against
// Postfix + Dovecot (bench/anchor/setup.sh) in the same run, alternating, with the ratio
// and CPU seconds per 1 000 messages (all of each system's processes, from /proc) per line.
//
//   pnpm bench [-- --messages 2000 --latency 200 --rate 50 --http 2000 --corpus 10000 --no-anchor --only ingest,latency]
//
// Correo runs as `pnpm start` runs it (scripts/dist/start.js: five processes) with its own
// database, broker prefix, Redis prefix and free ports, on the shared servers.
"use strict";
const { execFile, spawn } = require("node:child_process");
const { connect } = require("node:net");
const { cpus, totalmem, tmpdir } = require("node:os");
const fs = require("node:fs");
const { join } = require("node:path");
const { promisify } = require("node:util");
const run = promisify(execFile);
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnProcess, eventually } = require(join(root, "packages/testkit/dist/index.js"));
const { serviceSpecs } = require(join(root, "packages/config/dist/index.js"));
const dir = require(join(root, "packages/directory/dist/index.js"));
const { MailStore } = require(join(root, "packages/mailstore/dist/index.js"));
const { meter, correoGroupsOf, anchorGroups, listener, tree } = require("./cpu.js");

// ---- options ----
const argv = process.argv.slice(2).filter((a) => a !== "--");
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const N = Number(opt("messages", 2000));
const LAT_COUNT = Number(opt("latency", 200));
const LAT_RATE = Number(opt("rate", 50));
const HTTP_N = Number(opt("http", N));
const CORPUS = Number(opt("corpus", 10000));
const SESSIONS = Number(opt("sessions", 20));
const E2E_TIMEOUT_MS = Number(opt("timeout", 300)) * 1000;
const ANCHORS_DIR = opt("anchors", process.env.BENCH_ANCHORS_DIR ?? join(root, "..", "shared", "anchors"));
const ONLY = opt("only", "ingest,ingest-reuse,relay,latency,http,retrieval").split(",");
const wantAnchor = !argv.includes("--no-anchor");
// --cpu-tree=name:pid (repeatable): another process tree counted with Correo's CPU, e.g. a
// resolver or rspamd that the system under test talks to (bench/inbound-trust.js).
const extraTrees = argv.filter((a) => a.startsWith("--cpu-tree=")).map((a) => a.slice(11).split(":")).map(([name, pid]) => [name, Number(pid)]);
const extraEnv = Object.fromEntries(argv.filter((a) => a.startsWith("--env=")).map((a) => a.slice(6).split(/=(.*)/s).slice(0, 2)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (s) => process.stderr.write(`bench: ${s}\n`);

// ---- Correo ----
async function startCorreo() {
  const infra = await isolatedInfra("bench");
  const env = { ...infra.env, LOG_LEVEL: "warn", CORREO_LOG_FORMAT: "json", RELAY_SMTP_PORT: "1", SMTP_MAX_CONNECTIONS_PER_IP: String(SESSIONS * 5) };
  // Every listener on a free port, as e2e/harness.ts does (never the defaults).
  for (const spec of Object.values(serviceSpecs)) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_")) env[variable] = String(await freePort());
    }
  }
  for (const s of ["submission", "routing", "relay-queue", "mailbox", "retrieval"]) env[`${s.toUpperCase().replace(/-/g, "_")}_OPS_PORT`] = String(await freePort());
  Object.assign(env, extraEnv);
  const start = spawnProcess("pnpm-start", [join(root, "scripts", "dist", "start.js")], env);
  try {
    await eventually(async () => {
      if (start.child.exitCode !== null) throw new Error(`pnpm start exited:\n${start.output().slice(-3000)}`);
      return start.output().includes("all five services are ready");
    }, 90_000, "all five services ready");
  } catch (err) {
    await start.stop(15_000);
    await infra.cleanup();
    throw err;
  }
  const groups = correoGroupsOf(infra, start.child.pid);
  for (const [name, pid] of extraTrees) groups[name] = () => tree(pid, true).map((p) => [p, true]);
  const pool = infra.pool;
  await dir.addDomain(pool, "bench.test");
  const accounts = {};
  for (const u of ["user1", "user2", "user3", "user20"]) accounts[u] = await dir.addAccount(pool, `${u}@bench.test`, "bench-secret-1");
  await dir.addAlias(pool, "relay@bench.test", ["sink@remote.test"]);
  await dir.addTransport(pool, "remote.test", "127.0.0.2", 25, { tlsPolicy: "none" });
  const { token } = await dir.createApiKey(pool, "bench.test");
  const inboxCount = async (user) =>
    Number((await pool.query(
      "SELECT count(*)::int AS n FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id JOIN accounts a ON a.id = m.account_id WHERE a.address = $1",
      [`${user}@bench.test`],
    )).rows[0].n);
  return {
    name: "Correo", domain: "bench.test", mx: Number(env.SMTP_MX_PORT), imap: Number(env.IMAP_PORT), pop3: Number(env.POP3_PORT),
    http: Number(env.SUBMISSION_HTTP_PORT), token, env, pool, infra, start, accounts, meter: meter(groups), password: "bench-secret-1",
    readable: inboxCount,
    // smtp-sink's -c counter is not flushed to a pipe: count the relay's own final states.
    relayed: async () => Number((await pool.query("SELECT count(*)::int AS n FROM deliveries WHERE route = 'remote' AND state = 'delivered'")).rows[0].n),
    async reset(user) {
      await pool.query("DELETE FROM mailbox_messages WHERE mailbox_id IN (SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.address = $1)", [`${user}@bench.test`]);
    },
    /** Message-IDs readable since `after` (a mailbox_messages id), for the latency poller. */
    async newlyReadable(state) {
      const { rows } = await pool.query(
        "SELECT mm.id, m.header_message_id AS mid FROM mailbox_messages mm JOIN deliveries d ON d.id = mm.delivery_id JOIN messages m ON m.id = d.message_id WHERE mm.id > $1 ORDER BY mm.id",
        [state.last ?? 0],
      );
      if (rows.length) state.last = rows[rows.length - 1].id;
      return rows.map((r) => r.mid);
    },
    async stop() {
      await start.stop(15_000);
      await infra.cleanup();
    },
  };
}

// ---- Postfix + Dovecot ----
const VMAIL = "/var/vmail/anchor.test";
function maildirCount(user) {
  let n = 0;
  for (const sub of ["new", "cur"]) {
    try {
      n += fs.readdirSync(`${VMAIL}/${user}/Maildir/${sub}`).length;
    } catch {
      /* not there yet */
    }
  }
  return n;
}
async function startAnchor() {
  const log = join(tmpdir(), "correo-bench-anchor-setup.log");
  const fd = fs.openSync(log, "w");
  // The daemons keep the fds they inherit: give them a file, not a pipe.
  const child = spawn("bash", [join(__dirname, "anchor", "setup.sh")], { stdio: ["ignore", fd, fd] });
  const code = await new Promise((r) => child.once("exit", r));
  fs.closeSync(fd);
  if (code !== 0) throw new Error(`bench/anchor/setup.sh failed (see ${log}):\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
  return {
    name: "Postfix+Dovecot", domain: "anchor.test", mx: 25, imap: 143, pop3: 110, meter: meter(anchorGroups()), password: "secret",
    readable: async (user) => maildirCount(user),
    relayed: async () => {
      try {
        return (fs.readFileSync("/var/log/correo-bench-postfix.log", "latin1").match(/relay=[^ ]*127\.0\.0\.2\][^ ]*, .*status=sent/g) ?? []).length;
      } catch {
        return 0;
      }
    },
    async reset(user) {
      fs.rmSync(`${VMAIL}/${user}`, { recursive: true, force: true });
    },
    async newlyReadable(state) {
      const found = [];
      state.seen ??= new Set();
      for (const sub of ["new", "cur"]) {
        const d = `${VMAIL}/${state.user}/Maildir/${sub}`;
        let names = [];
        try {
          names = fs.readdirSync(d);
        } catch {
          continue;
        }
        for (const name of names) {
          if (state.seen.has(name)) continue;
          state.seen.add(name);
          try {
            const head = fs.readFileSync(`${d}/${name}`, "latin1").slice(0, 4096);
            const m = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(head);
            if (m) found.push(m[1]);
          } catch {
            /* moved from new/ to cur/ meanwhile: seen under its new name */
          }
        }
      }
      return found;
    },
    async stop() {},
  };
}

// ---- measurements ----
function pct(values, p) {
  const v = [...values].sort((a, b) => a - b);
  if (!v.length) return NaN;
  const k = ((v.length - 1) * p) / 100;
  const f = Math.floor(k);
  const c = Math.min(f + 1, v.length - 1);
  return v[f] + (v[c] - v[f]) * (k - f);
}

/** Runs `load` and waits until `done()` ≥ target; times both and reads CPU over all of it. */
async function timed(sys, load, target, progress) {
  const c0 = sys.meter.sample();
  const t0 = performance.now();
  await load();
  const acceptMs = performance.now() - t0;
  const cAccept = sys.meter.sample();
  let got = await progress();
  const deadline = Date.now() + E2E_TIMEOUT_MS;
  while (got < target && Date.now() < deadline) {
    await sleep(20);
    got = await progress();
  }
  const e2eMs = performance.now() - t0;
  // Settle: let the system finish what it does after the last delivery (commits, acks).
  await sleep(300);
  const c1 = sys.meter.sample();
  const cpu = sys.meter.delta(c0, c1);
  say(`  ${sys.name}: ${got}/${target} in ${(e2eMs / 1000).toFixed(1)} s (load ${(acceptMs / 1000).toFixed(1)} s); CPU s ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
  return { acceptMs, e2eMs, got, cpuAccept: sys.meter.delta(c0, cAccept), cpu };
}

function smtpSource(sys, to, reuse, n = N) {
  const args = ["-l", "4096", "-f", "bench@client.test", "-M", "client.test", "-s", String(SESSIONS), "-m", String(n), "-t", to];
  if (reuse) args.unshift("-d");
  return run("smtp-source", [...args, `127.0.0.1:${sys.mx}`], { maxBuffer: 1 << 24 });
}

async function ingest(sys, reuse) {
  await sys.reset("user1");
  const r = await timed(sys, () => smtpSource(sys, `user1@${sys.domain}`, reuse), N, () => sys.readable("user1"));
  return r;
}

function startSink() {
  const sink = spawn("smtp-sink", ["-c", "-u", "nobody", "-h", "sink.remote.test", "-m", "512", "127.0.0.2:25", "1024"], { stdio: ["ignore", "pipe", "pipe"] });
  let count = 0;
  let err = "";
  sink.stdout.on("data", (d) => {
    const all = [...d.toString().matchAll(/msg=(\d+)/g)];
    if (all.length) count = Number(all[all.length - 1][1]);
  });
  sink.stderr.on("data", (d) => (err += d.toString()));
  return { count: () => count, err: () => err, stop: () => sink.kill() };
}

async function httpLoad(sys, n, to, concurrency = SESSIONS) {
  const body = JSON.stringify({ from: "bench@bench.test", to, subject: "bench", text: "lorem ipsum dolor sit amet consectetur\r\n".repeat(100) });
  const lat = [];
  let failed = 0;
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${sys.http}/v1/messages`, {
        method: "POST", headers: { authorization: `Bearer ${sys.token}`, "content-type": "application/json" }, body,
      });
      await res.arrayBuffer();
      lat.push(performance.now() - t);
      if (res.status !== 202) failed++;
    }
  }));
  return { lat, failed };
}

async function relay(sys, sink, via) {
  const before = await sys.relayed();
  if (via === "http") {
    let h;
    const r = await timed(sys, async () => (h = await httpLoad(sys, N, "sink@remote.test")), N, async () => (await sys.relayed()) - before);
    return { ...r, failed: h.failed };
  }
  const to = sys.name === "Correo" ? "relay@bench.test" : "sink@remote.test";
  return timed(sys, () => smtpSource(sys, to, false), N, async () => (await sys.relayed()) - before);
}

/** One SMTP transaction on a new connection; resolves with ms to the 250 after DATA. */
function smtpOnce(port, msgId, to) {
  const body = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\r\n".repeat(52);
  const data = `From: bench@client.test\r\nTo: ${to}\r\nSubject: latency\r\nMessage-ID: ${msgId}\r\n\r\n${body}.\r\n`;
  const script = ["EHLO client.test\r\n", "MAIL FROM:<bench@client.test>\r\n", `RCPT TO:<${to}>\r\n`, "DATA\r\n", data, "QUIT\r\n"];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect(port, "127.0.0.1");
    let buf = "";
    let step = 0;
    let accepted;
    s.on("data", (d) => {
      buf += d.toString("latin1");
      for (;;) {
        const m = /^(\d{3})([ -])[^\r\n]*\r\n/.exec(buf);
        if (!m) break;
        buf = buf.slice(m[0].length);
        if (m[2] === "-") continue;
        if (m[1][0] !== "2" && m[1][0] !== "3") return reject(new Error(`SMTP ${m[0].trim()} at step ${step}`)), s.destroy();
        if (step === 5) accepted = performance.now() - t0;
        if (step < script.length) s.write(script[step++], "latin1");
        else s.end();
      }
    });
    s.on("close", () => (accepted === undefined ? reject(new Error("closed before 250")) : resolve(accepted)));
    s.on("error", reject);
  });
}

async function latency(sys, user) {
  await sys.reset(user);
  const to = `${user}@${sys.domain}`;
  const tag = `${Date.now().toString(36)}`;
  const sent = new Map();
  const seen = new Map();
  const smtp = [];
  const state = { user };
  let polling = true;
  const poller = (async () => {
    // Start from what is readable now.
    await sys.newlyReadable(state);
    while (polling) {
      const now = performance.now();
      for (const mid of await sys.newlyReadable(state)) if (!seen.has(mid)) seen.set(mid, now);
      await sleep(2);
    }
  })();
  const c0 = sys.meter.sample();
  const t0 = performance.now() + 100;
  const sends = [];
  for (let i = 0; i < LAT_COUNT; i++) {
    const wait = t0 + (i * 1000) / LAT_RATE - performance.now();
    if (wait > 0) await sleep(wait);
    const mid = `<lat-${tag}-${i}@client.test>`;
    sent.set(mid, performance.now());
    sends.push(smtpOnce(sys.mx, mid, to).then((ms) => smtp.push(ms), () => undefined));
  }
  await Promise.all(sends);
  const deadline = Date.now() + 60_000;
  while (seen.size < LAT_COUNT && Date.now() < deadline) await sleep(20);
  polling = false;
  await poller;
  const c1 = sys.meter.sample();
  const e2e = [...seen].filter(([mid]) => sent.has(mid)).map(([mid, at]) => at - sent.get(mid));
  return { smtp, e2e, got: seen.size, cpu: sys.meter.delta(c0, c1) };
}

async function corpusDir() {
  const out = join(tmpdir(), `correo-bench-corpus-${CORPUS}`);
  if (fs.existsSync(join(out, `${String(CORPUS - 1).padStart(6, "0")}.eml`))) return out;
  const src = join(ANCHORS_DIR, "fill_mailbox.py");
  if (!fs.existsSync(src)) return undefined;
  // The anchors' folder is read-only and not ours: run a copy of its generator from /tmp.
  const copy = join(tmpdir(), "correo-bench-fill_mailbox.py");
  fs.copyFileSync(src, copy);
  await run("python3", [copy, "-n", String(CORPUS), "--user", "user20@anchor.test", "--dump", out], { maxBuffer: 1 << 24 });
  return out;
}

async function fillCorreo(sys, corpus) {
  if ((await sys.readable("user20")) >= CORPUS) return;
  const store = new MailStore({ pool: sys.pool });
  const files = fs.readdirSync(corpus).filter((f) => f.endsWith(".eml")).sort();
  let next = 0;
  // Same messages, through the mailstore's append (what IMAP APPEND and delivery use).
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < files.length) {
      const raw = fs.readFileSync(join(corpus, files[next++])).toString("latin1").replace(/user20@anchor\.test/g, "user20@bench.test");
      await store.append(sys.accounts.user20.id, "INBOX", Buffer.from(raw, "latin1"));
    }
  }));
  await sys.pool.query("VACUUM ANALYZE mailbox_messages");
}

async function fillAnchor(corpus) {
  if (maildirCount("user20") >= CORPUS) return;
  fs.rmSync(`${VMAIL}/user20`, { recursive: true, force: true });
  await run("python3", [join(__dirname, "retrieval.py"), "lmtp-fill", "--user", "user20@anchor.test", corpus], { maxBuffer: 1 << 24 });
}

/** bench/retrieval.py, reading the system's CPU between its steps. */
async function retrieval(sys) {
  const py = spawn("python3", [join(__dirname, "retrieval.py"), "measure", "--imap-port", String(sys.imap), "--pop3-port", String(sys.pop3),
    "--user", `user20@${sys.domain}`, "--password", sys.password], { stdio: ["pipe", "pipe", "inherit"] });
  const steps = {};
  let c0;
  let buf = "";
  await new Promise((resolve, reject) => {
    py.stdout.on("data", (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).split(" ");
        buf = buf.slice(i + 1);
        if (line[0] === "begin") c0 = sys.meter.sample();
        else if (line[0] === "end") {
          const cpu = sys.meter.delta(c0, sys.meter.sample());
          (steps[line[1]] ??= []).push({ s: Number(line[2]), n: Number(line[3]), cpu: cpu.total });
        }
        py.stdin.write("\n");
      }
    });
    py.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`retrieval.py exited ${code}`))));
  });
  return steps;
}

// ---- table ----
const rows = [];
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }).replace(/,/g, " ") : "—");
const per1000 = (cpuS, n) => (n > 0 ? (cpuS * 1000) / n : NaN);
function row(line, unit, correo, anchor, higherIsBetter, cpuC, cpuA) {
  const ratio = correo !== undefined && anchor !== undefined ? (higherIsBetter ? correo / anchor : anchor / correo) : NaN;
  rows.push({ line, unit, correo, anchor, ratio, cpuC, cpuA });
  say(`${line}: Correo ${fmt(correo, 1)} ${unit}, anchor ${fmt(anchor, 1)}; CPU/1000 ${fmt(cpuC, 2)} vs ${fmt(cpuA, 2)}`);
}
function table() {
  const head = "| workload | Correo | Postfix + Dovecot | Correo / anchor | CPU s / 1 000 msgs: Correo | anchor |";
  const lines = [head, "|---|---|---|---|---|---|"];
  for (const r of rows) {
    lines.push(`| ${r.line} | ${fmt(r.correo, r.unit === "s" ? 3 : 1)} ${r.unit} | ${fmt(r.anchor, r.unit === "s" ? 3 : 1)}${r.anchor === undefined ? "" : ` ${r.unit}`} | ${Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : "—"} | ${fmt(r.cpuC, 2)} | ${fmt(r.cpuA, 2)} |`);
  }
  return lines.join("\n");
}

async function main() {
  say(`${N} messages, ${SESSIONS} sessions; latency ${LAT_COUNT} at ${LAT_RATE}/s; HTTP ${HTTP_N}; corpus ${CORPUS}`);
  const correo = await startCorreo();
  // Ctrl-C or a timeout: stop the services and drop this run's database, prefix and keys.
  for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => void correo.stop().finally(() => process.exit(130)));
  let anchor;
  const cpuNotes = [];
  try {
    if (wantAnchor && process.getuid?.() === 0) {
      try {
        anchor = await startAnchor();
      } catch (err) {
        say(`anchor not available: ${err.message}`);
      }
    } else if (wantAnchor) say("anchor needs root (bench/anchor/setup.sh); Correo only");
    const both = [correo, anchor].filter(Boolean);
    const rate = (n, ms) => (n * 1000) / ms;

    for (const reuse of [false, true]) {
      if (!ONLY.includes(reuse ? "ingest-reuse" : "ingest")) continue;
      const r = {};
      for (const sys of both) r[sys.name] = await ingest(sys, reuse);
      const c = r.Correo;
      const a = anchor && r[anchor.name];
      const label = reuse ? "SMTP MX ingest, connections reused (-d)" : "SMTP MX ingest, one connection per message";
      row(`${label}: accepted`, "msg/s", rate(N, c.acceptMs), a && rate(N, a.acceptMs), true, per1000(c.cpuAccept.total, N), a && per1000(a.cpuAccept.total, N));
      row(`${label}: readable in the mailbox (end to end)`, "msg/s", rate(c.got, c.e2eMs), a && rate(a.got, a.e2eMs), true, per1000(c.cpu.total, c.got), a && per1000(a.cpu.total, a.got));
      if (c.got < N) say(`Correo: only ${c.got} of ${N} readable within the timeout`);
      cpuNotes.push(`${label}, Correo CPU s by group: ${Object.entries(c.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}${a ? `; anchor: ${Object.entries(a.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}` : ""}`);
    }

    if (ONLY.includes("relay")) {
      const sink = startSink();
      await sleep(500);
      try {
        const c = await relay(correo, sink, "http");
        const cAlias = await relay(correo, sink, "alias");
        const a = anchor && (await relay(anchor, sink, "smtp"));
        row("relay to smtp-sink, end to end (Correo: HTTP POST, 20 clients; Postfix: smtp-source)", "msg/s", rate(c.got, c.e2eMs), a && rate(a.got, a.e2eMs), true, per1000(c.cpu.total, c.got), a && per1000(a.cpu.total, a.got));
        row("relay to smtp-sink, end to end, smtp-source (Correo: MX → alias → remote)", "msg/s", rate(cAlias.got, cAlias.e2eMs), a && rate(a.got, a.e2eMs), true, per1000(cAlias.cpu.total, cAlias.got), a && per1000(a.cpu.total, a.got));
        if (c.got < N || cAlias.got < N) say(`Correo relay: ${c.got} (HTTP) and ${cAlias.got} (alias) of ${N} at the sink within the timeout`);
        cpuNotes.push(`relay over HTTP, Correo CPU s by group: ${Object.entries(c.cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
      } finally {
        sink.stop();
      }
    }

    if (ONLY.includes("latency")) {
      const r = {};
      for (const sys of both) r[sys.name] = await latency(sys, "user2");
      const c = r.Correo;
      const a = anchor && r[anchor.name];
      const n = (x) => x.got;
      row(`at ${LAT_RATE} msg/s: SMTP transaction p50`, "ms", pct(c.smtp, 50), a && pct(a.smtp, 50), false, per1000(c.cpu.total, n(c)), a && per1000(a.cpu.total, n(a)));
      row(`at ${LAT_RATE} msg/s: SMTP transaction p99`, "ms", pct(c.smtp, 99), a && pct(a.smtp, 99), false);
      row(`at ${LAT_RATE} msg/s: send → readable p50`, "ms", pct(c.e2e, 50), a && pct(a.e2e, 50), false);
      row(`at ${LAT_RATE} msg/s: send → readable p99`, "ms", pct(c.e2e, 99), a && pct(a.e2e, 99), false);
      if (c.got < LAT_COUNT) say(`Correo latency: only ${c.got} of ${LAT_COUNT} readable`);
    }

    if (ONLY.includes("http")) {
      const c0 = correo.meter.sample();
      const t0 = performance.now();
      const h = await httpLoad(correo, HTTP_N, "user3@bench.test");
      const ms = performance.now() - t0;
      const cpu = correo.meter.delta(c0, correo.meter.sample());
      row(`HTTP POST /v1/messages, ${SESSIONS} clients (keep-alive): accepted${h.failed ? ` (${h.failed} failed)` : ""}`, "msg/s", rate(HTTP_N - h.failed, ms), undefined, true, per1000(cpu.total, HTTP_N));
      cpuNotes.push(`HTTP POST, Correo CPU s by group: ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
      row("HTTP POST /v1/messages: p50 / p99", "ms", pct(h.lat, 50), undefined, false);
      rows[rows.length - 1].unit = `ms (p99 ${fmt(pct(h.lat, 99), 1)} ms)`;
    }

    if (ONLY.includes("retrieval")) {
      const corpus = await corpusDir();
      if (!corpus) say(`no corpus generator at ${ANCHORS_DIR}/fill_mailbox.py (--anchors DIR): IMAP/POP3 skipped`);
      else {
        say(`filling ${CORPUS} messages into both mailboxes`);
        await fillCorreo(correo, corpus);
        if (anchor) await fillAnchor(corpus);
        const r = {};
        for (const sys of both) r[sys.name] = await retrieval(sys);
        const med = (list) => pct(list.map((x) => x.s), 50);
        const cpu = (list) => per1000(list.reduce((s, x) => s + x.cpu, 0), list.reduce((s, x) => s + x.n, 0));
        for (const step of Object.keys(r.Correo)) {
          const c = r.Correo[step];
          const a = anchor && r[anchor.name][step];
          row(`${step.replace(/_/g, " ")} (${c[0].n} msgs)`, "s", med(c), a && med(a), false, cpu(c), a && cpu(a));
        }
      }
    }
  } finally {
    await correo.stop().catch((e) => say(`stop: ${e.message}`));
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average at the end ${require("node:os").loadavg().map((x) => x.toFixed(1)).join(" ")}`;
  const out = `${table()}\n\n${N} messages of 4.5 KB per SMTP line, ${SESSIONS} sessions; latency ${LAT_COUNT} messages at ${LAT_RATE}/s; corpus ${CORPUS}.\nMachine: ${machine}; ${new Date().toISOString()}.\n${cpuNotes.map((n) => `- ${n}`).join("\n")}\n`;
  process.stdout.write(`\n${out}`);
  fs.mkdirSync(join(__dirname, "results"), { recursive: true });
  fs.writeFileSync(join(__dirname, "results", "latest.md"), out);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
