#!/usr/bin/env node
// IMAP on a large folder: SELECT of an N-message INBOX, FETCH of the newest 50
// ENVELOPEs, FETCH of 10 000 ENVELOPE+BODYSTRUCTURE items, and a QRESYNC resync
// (RFC 7162 §3.2.5: SELECT … (QRESYNC …) after 100 changes: 60 flag changes, 40
// expunges); Dovecot on the same messages when DOVECOT_PORT is set (see bench/README.md
// for setting it up).
//
//   pnpm build && node bench/imap-large-mailbox.js [messages=100000]
//   DOVECOT_PORT=10143 DOVECOT_USER=bench DOVECOT_PASS=bench node bench/imap-large-mailbox.js
//
// Loads the messages straight into PostgreSQL (100 distinct bodies, stored once and
// shared, each row with the envelope and structure, and their response texts, that the
// mailbox service computes at delivery), starts the IMAP listener in this process, and times each command from
// sending it to its tagged OK over a raw socket. With DUMP_MAILDIR=<dir> it also
// writes the same messages as a Maildir for Dovecot.
"use strict";
const { connect } = require("node:net");
const { mkdirSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, addAccount } = require(join(root, "packages/directory/dist/index.js"));
const { MailStore, describeMessage } = require(join(root, "packages/mailstore/dist/index.js"));
const { putBlob } = require(join(root, "packages/spool/dist/index.js"));
const { loadTlsCredentials } = require(join(root, "packages/tls/dist/index.js"));
const { createLogger } = require(join(root, "packages/telemetry/dist/index.js"));
const { startImapListener } = require(join(root, "services/retrieval/dist/imap/listener.js"));
const { summaryTexts } = require(join(root, "packages/imap/dist/index.js"));
const { mailstoreAdapter } = require(join(root, "services/retrieval/dist/imap/mailstore-adapter.js"));

const total = Number(process.argv[2] ?? 100_000);
const USER = "bench@bench.test";
const PASS = "bench-password";

function message(i) {
  return Buffer.from(
    [
      `From: Sender ${i} <sender${i}@example.org>`,
      `To: Bench <${USER}>`,
      `Subject: Message number ${i} =?utf-8?Q?caf=C3=A9?=`,
      `Date: Mon, 01 Jan 2024 10:${String(i % 60).padStart(2, "0")}:00 +0000`,
      `Message-ID: <${i}@bench.test>`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/alternative; boundary="alt"',
      "",
      "--alt",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Body of message ${i}. `.repeat(20),
      "--alt",
      "Content-Type: text/html; charset=utf-8",
      "",
      `<p>Body of message ${i}.</p>`.repeat(20),
      "--alt--",
      "",
    ].join("\r\n"),
  );
}

/** Sends one command and resolves with the elapsed ms when its tagged response arrives. */
function session(port) {
  const s = connect(port, "127.0.0.1");
  // The client shares this process with Correo's listener: it keeps the chunks and only
  // the last 2000 characters as a string (slicing a 5 MB concatenation on every chunk
  // cost as much as the server's FETCH did).
  let chunks = [];
  let tail = "";
  let waiter;
  const text = () => Buffer.concat(chunks).toString("latin1");
  s.on("data", (d) => {
    chunks.push(d);
    tail = (tail + d.toString("latin1", Math.max(0, d.length - 2000))).slice(-2000);
    if (waiter && waiter.re.test(tail)) {
      const w = waiter;
      waiter = undefined;
      w.resolve(text());
    }
  });
  const until = (re) => new Promise((resolve) => { waiter = { re, resolve }; if (re.test(tail)) { waiter = undefined; resolve(text()); } });
  let n = 0;
  return {
    ready: until(/^\* OK/),
    async cmd(text) {
      const tag = `b${++n}`;
      chunks = [];
      tail = "";
      const started = performance.now();
      s.write(`${tag} ${text}\r\n`);
      const out = await until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n$`));
      const ms = performance.now() - started;
      if (!new RegExp(`${tag} OK`).test(out)) throw new Error(`${text}: ${out.slice(-300)}`);
      return { ms, bytes: out.length, out };
    },
    close: () => s.destroy(),
  };
}

async function measure(label, port, user, pass) {
  const c = session(port);
  await c.ready;
  await c.cmd(`LOGIN ${user} ${pass}`);
  const sel = await c.cmd("SELECT INBOX");
  const exists = Number(/\* (\d+) EXISTS/.exec(sel.out)[1]);
  // A single SELECT is at the mercy of the machine's noise: the median of more (SELECT_REPEAT, 10).
  const again = [];
  for (let i = 0; i < Number(process.env.SELECT_REPEAT ?? 10); i++) again.push((await c.cmd("SELECT INBOX")).ms);
  again.sort((a, b) => a - b);
  const selMedian = again.length ? again[Math.floor(again.length / 2)] : NaN;
  const newest = await c.cmd(`FETCH ${Math.max(1, exists - 49)}:* (ENVELOPE)`);
  const many = await c.cmd(`FETCH ${Math.max(1, exists - 9999)}:* (ENVELOPE BODYSTRUCTURE)`);
  const search = await c.cmd("SEARCH UNSEEN");
  // Substring of the bodies and subjects of 1 in 100 messages (RFC 3501 §6.4.4 TEXT);
  // twice: Correo's first text SEARCH indexes blobs no earlier one has met.
  const text = await c.cmd('SEARCH TEXT "MESSAGE 42."');
  const text2 = await c.cmd('SEARCH TEXT "MESSAGE 42."');
  const hits = (/\* SEARCH([\d ]*)/.exec(text.out)?.[1] ?? "").trim().split(" ").filter(Boolean).length;
  await c.cmd("ENABLE QRESYNC");
  const before = await c.cmd("SELECT INBOX");
  const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(before.out)[1]);
  const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(before.out)[1]);
  // 100 changes by another session while this one is away: 60 flags set, 40 messages expunged.
  const other = session(port);
  await other.ready;
  await other.cmd(`LOGIN ${user} ${pass}`);
  await other.cmd("SELECT INBOX");
  await c.cmd("UNSELECT");
  const seqs = Array.from({ length: 100 }, (_, i) => Math.floor(((i + 1) * exists) / 101));
  for (const n of seqs.slice(0, 60)) await other.cmd(`STORE ${n} +FLAGS.SILENT (\\Flagged)`);
  await other.cmd(`STORE ${seqs.slice(60).join(",")} +FLAGS.SILENT (\\Deleted)`);
  await other.cmd("EXPUNGE");
  other.close();
  const resync = await c.cmd(`SELECT INBOX (QRESYNC (${uidValidity} ${modseq}))`);
  const vanished = /VANISHED \(EARLIER\) (\S+)/.exec(resync.out)?.[1] ?? "";
  const fetched = (resync.out.match(/ FETCH /g) ?? []).length;
  // The same resync by a client that stayed selected (RFC 7162 §3.2.6).
  const vanishedFetch = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
  c.close();
  console.log(`${label}: ${exists} messages`);
  console.log(`  SELECT INBOX                               ${sel.ms.toFixed(1)} ms (median of ${again.length} more: ${selMedian.toFixed(1)} ms)`);
  console.log(`  FETCH newest 50 (ENVELOPE)                 ${newest.ms.toFixed(1)} ms (${newest.bytes} bytes)`);
  console.log(`  FETCH 10000 (ENVELOPE BODYSTRUCTURE)       ${many.ms.toFixed(1)} ms (${many.bytes} bytes)`);
  console.log(`  SEARCH UNSEEN                              ${search.ms.toFixed(1)} ms`);
  console.log(`  SEARCH TEXT "MESSAGE 42." (${hits} found)     ${text.ms.toFixed(1)} ms, again ${text2.ms.toFixed(1)} ms`);
  console.log(`  SELECT (QRESYNC) after 100 changes         ${resync.ms.toFixed(1)} ms (${fetched} FETCH, VANISHED ${vanished.split(",").filter(Boolean).length} ranges)`);
  console.log(`  UID FETCH 1:* (CHANGEDSINCE VANISHED)      ${vanishedFetch.ms.toFixed(1)} ms (${(vanishedFetch.out.match(/ FETCH /g) ?? []).length} FETCH)`);
}

async function main() {
  const infra = await isolatedInfra("bench-imap");
  try {
    await addDomain(infra.pool, "bench.test");
    const account = await addAccount(infra.pool, USER, PASS);
    const { rows } = await infra.pool.query("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [account.id]);
    const mailboxId = rows[0].id;
    const started = performance.now();
    const distinct = [];
    for (let i = 0; i < 100; i++) {
      const raw = message(i);
      const d = describeMessage(raw);
      const texts = summaryTexts(d.envelope, d.bodyStructure);
      distinct.push({ blobId: await putBlob(infra.pool, raw), size: raw.length, envelope: JSON.stringify(d.envelope), structure: JSON.stringify(d.bodyStructure), sent: d.sentDate, texts });
    }
    for (let start = 1; start <= total; start += 10_000) {
      const end = Math.min(total, start + 9_999);
      await infra.pool.query(
        `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, flags, size, modseq, envelope, body_structure, sent_date, internal_date,
                                       imap_envelope, imap_body_structure)
         SELECT $1, g, (d->>'blobId'), CASE WHEN g % 3 = 0 THEN ARRAY['\\Seen'] ELSE '{}' END, (d->>'size')::int, g + 1,
                (d->>'envelope')::jsonb, (d->>'structure')::jsonb, (d->>'sent')::timestamptz, now(),
                d->'texts'->>'envelope', d->'texts'->>'bodyStructure'
           FROM generate_series($2::int, $3::int) g, LATERAL (SELECT ($4::jsonb)->(g % 100) AS d) x`,
        [mailboxId, start, end, JSON.stringify(distinct)],
      );
    }
    // As the appends would have left the folder row (migration 028 keeps the count with uid_next).
    await infra.pool.query("UPDATE mailboxes SET uid_next = $2 + 1, highest_modseq = $2 + 2, message_count = $2 WHERE id = $1", [mailboxId, total]);
    // A folder this size has been through autovacuum in real life: visibility map and statistics.
    await infra.pool.query("VACUUM ANALYZE mailbox_messages");
    console.log(`loaded ${total} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    if (process.env.DUMP_MAILDIR) {
      const dir = process.env.DUMP_MAILDIR;
      for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
      for (let i = 1; i <= total; i++) writeFileSync(join(dir, "cur", `${i}.bench:2,${i % 3 === 0 ? "S" : ""}`), message(i % 100));
      console.log(`wrote the same ${total} messages as a Maildir in ${dir}`);
    }

    const store = new MailStore({ pool: infra.pool });
    const tls = await loadTlsCredentials({ hostname: "localhost" });
    const listener = await startImapListener({ host: "127.0.0.1", port: 0, hostname: "bench", storage: mailstoreAdapter(infra.pool, store), tls, log: createLogger("bench", "silent") });
    await measure("Correo", listener.port, USER, PASS);
    await measure("Correo (second run, warm)", listener.port, USER, PASS);
    await listener.close();
    if (process.env.DOVECOT_PORT) {
      await measure("Dovecot", Number(process.env.DOVECOT_PORT), process.env.DOVECOT_USER ?? "bench", process.env.DOVECOT_PASS ?? "bench");
      await measure("Dovecot (second run, warm)", Number(process.env.DOVECOT_PORT), process.env.DOVECOT_USER ?? "bench", process.env.DOVECOT_PASS ?? "bench");
    }
  } finally {
    await infra.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
