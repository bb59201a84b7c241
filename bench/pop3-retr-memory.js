#!/usr/bin/env node
// Resident memory of the retrieval process while POP3 RETR sends one large message.
//
//   pnpm build && node bench/pop3-retr-memory.js [megabytes=50] [runs=3]
//
// Stores one message of about `megabytes` MB (a text part with lines that need
// dot-stuffing and a base64 attachment of random bytes, 76-character lines) in the INBOX
// of an account of its own database, starts services/retrieval from its build on free
// ports, logs in over a raw socket and RETRs the message `runs` times, reading as fast as
// it can. RSS of the retrieval process is read from /proc/<pid>/status (VmRSS) every
// 10 ms. For each run it prints the RSS before RETR, the peak during it, the growth and
// the growth as a multiple of the message size, the time, and checks the octets received
// (after un-stuffing) against the stored message. CORREO_ROOT=<checkout> runs that
// checkout's retrieval build instead (e.g. before a change).
"use strict";
const { readFileSync } = require("node:fs");
const { connect } = require("node:net");
const { randomBytes } = require("node:crypto");
const { join } = require("node:path");
const { servicesRoot, correoPackage, numberArgs, sleep } = require("./checkout.js");
const { isolatedInfra, freePort, spawnProcess, waitForHttp } = correoPackage("testkit");
const { addDomain, addAccount } = correoPackage("directory");
const { MailStore } = correoPackage("mailstore");

const [megabytes, runs] = numberArgs(50, 3);
const PASSWORD = "bench-password-1";
const mb = (bytes) => (bytes / 1048576).toFixed(1);

function rssBytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) * 1024;
}

function bigMessage(size) {
  const head = [
    "From: sender@remote.test",
    "To: big@bench.test",
    "Subject: a large message for RETR",
    "Message-ID: <pop3-retr-memory@bench.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="big"',
    "",
    "--big",
    "Content-Type: text/plain; charset=utf-8",
    "",
  ];
  const text = [];
  for (let i = 0; i < 2000; i++) text.push(i % 7 === 0 ? `.line ${i} starts with a dot` : `line ${i} of the text part`);
  const prefix = [...head, ...text, "--big", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", 'Content-Disposition: attachment; filename="data.bin"', "", ""].join("\r\n");
  const b64 = randomBytes(Math.floor(((size - prefix.length) * 3) / 4 / 1.027)).toString("base64");
  const lines = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(prefix + lines.join("\r\n") + "\r\n--big--\r\n", "latin1");
}

/** One POP3 session: login, then RETR 1 `times` times; calls onRetr(run, retr) for each. */
async function session(port, user, times, onRetr) {
  const socket = connect(port, "127.0.0.1");
  // Chunks as they came, joined only once a response is complete.
  let chunks = [];
  let waiter;
  socket.on("data", (b) => {
    chunks.push(b);
    waiter?.();
  });
  /** The last `n` octets of chunks[0..end). */
  const tail = (end, n) => {
    const out = [];
    for (let i = end - 1; i >= 0 && n > 0; i--) {
      const c = chunks[i];
      out.unshift(c.subarray(Math.max(0, c.length - n)));
      n -= c.length;
    }
    return Buffer.concat(out);
  };
  /** Everything up to and including the first `marker`, once it has come; each chunk is scanned once. */
  const until = async (marker) => {
    const m = Buffer.from(marker);
    for (let scanned = 0; ; ) {
      for (; scanned < chunks.length; scanned++) {
        const before = tail(scanned, m.length - 1);
        const i = Buffer.concat([before, chunks[scanned]]).indexOf(m);
        if (i >= 0) {
          const all = Buffer.concat(chunks.slice(0, scanned + 1));
          const end = all.length - chunks[scanned].length - before.length + i + m.length;
          chunks = end < all.length ? [all.subarray(end)] : [];
          return all.subarray(0, end);
        }
      }
      await new Promise((r) => (waiter = r));
    }
  };
  await until("\r\n");
  socket.write(`USER ${user}\r\n`);
  await until("\r\n");
  socket.write(`PASS ${PASSWORD}\r\n`);
  const pass = (await until("\r\n")).toString();
  if (!pass.startsWith("+OK")) throw new Error(`login failed: ${pass}`);
  for (let run = 1; run <= times; run++) {
    await onRetr(run, async () => {
      socket.write("RETR 1\r\n");
      const status = (await until("\r\n")).toString();
      if (!status.startsWith("+OK")) throw new Error(`RETR failed: ${status}`);
      // "\r\n.\r\n" can only be the end: a line "." inside the message is sent as "..".
      return until("\r\n.\r\n");
    });
  }
  socket.end("QUIT\r\n");
}

async function main() {
  const infra = await isolatedInfra("bench-pop3-retr");
  let proc;
  try {
    await addDomain(infra.pool, "bench.test");
    const account = await addAccount(infra.pool, "big@bench.test", PASSWORD);
    const message = bigMessage(megabytes * 1_000_000);
    const stored = await new MailStore({ pool: infra.pool }).append(account.id, "INBOX", message);
    if ("refused" in stored) throw new Error(stored.text);
    const expected = message.toString("latin1").replace(/^\./gm, "..") + ".\r\n";

    const ops = await freePort();
    const port = await freePort();
    const env = { ...infra.env, OPS_PORT: String(ops), POP3_PORT: String(port), LOG_LEVEL: "warn" };
    for (const v of ["POP3S_PORT", "IMAP_PORT", "IMAPS_PORT", "RETRIEVAL_HTTP_PORT"]) env[v] = String(await freePort());
    proc = spawnProcess("retrieval", [join(servicesRoot, "services", "retrieval", "dist", "main.js")], env);
    await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 60_000, proc);
    const pid = proc.child.pid;
    await sleep(2000);

    console.log(`POP3 RETR of a ${mb(message.length)} MB message, retrieval from ${servicesRoot}`);
    console.log("| run | RSS before | peak during RETR | growth | growth / message | RETR time | octets |");
    console.log("|---|---|---|---|---|---|---|");
    await session(port, "big@bench.test", runs, async (run, retr) => {
      const before = rssBytes(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
      const t = process.hrtime.bigint();
      const body = await retr();
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      clearInterval(sampler);
      peak = Math.max(peak, rssBytes(pid));
      const exact = body.toString("latin1") === expected ? "exact" : "DIFFER";
      console.log(
        `| ${run} | ${mb(before)} MB | ${mb(peak)} MB | ${mb(peak - before)} MB | ${((peak - before) / message.length).toFixed(2)}x | ${seconds.toFixed(2)} s | ${exact} |`,
      );
    });
  } finally {
    await proc?.stop();
    await infra.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
