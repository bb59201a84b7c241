#!/usr/bin/env node
// Local deliveries per second into one account, and the CPU each costs, in an empty
// folder and in a folder of `prefill` messages.
//
//   pnpm build && node bench/mailbox-append.js [messages=2000] [prefill=1000000]
//   (MAILBOX_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service)
//
// Starts services/mailbox from its build with its own database and broker prefix. For
// each folder (first an empty INBOX, then one holding `prefill` rows, written with one
// INSERT ... SELECT generate_series and VACUUM ANALYZE): writes `messages` routed
// deliveries of distinct 4.5 KB messages straight into the spool, publishes their
// delivery.local events, and waits until all are delivered. Prints the rate and the CPU
// seconds per 1 000 messages of the mailbox process and of this database's PostgreSQL
// backends (utime + stime from /proc; the shared WAL writer and checkpointer are not
// counted). The same script runs against an older build: it needs only the service,
// SQL and the broker.
"use strict";
const { readFileSync } = require("node:fs");
const { createHash, randomUUID } = require("node:crypto");
const { join } = require("node:path");
const root = join(__dirname, "..");
const { isolatedInfra, freePort, spawnProcess, waitForHttp, eventually } = require(join(root, "packages/testkit/dist/index.js"));
const { addDomain, addAccount } = require(join(root, "packages/directory/dist/index.js"));
const { Broker } = require(join(root, "packages/broker/dist/index.js"));
const { createLogger } = require(join(root, "packages/telemetry/dist/index.js"));

const total = Number(process.argv[2] ?? 2000);
const prefill = Number(process.argv[3] ?? 1_000_000);
const TICK = 100; // clock ticks per second (getconf CLK_TCK)

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
  } catch {
    return 0; // gone
  }
}

async function backendPids(pool, db) {
  const { rows } = await pool.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [db]);
  return rows.map((r) => r.pid);
}

function body(i) {
  const line = `line of message ${i} `.padEnd(76, "x");
  return `From: bob@remote.test\r\nTo: big@example.test\r\nSubject: bench ${i}\r\nDate: Tue, 01 Dec 2026 23:00:00 +0000\r\nMessage-ID: <bench-${i}-${randomUUID()}@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${(line + "\r\n").repeat(58)}`;
}

/** `n` routed deliveries to `account` in the spool (blob, message, delivery), as routing leaves them. */
async function spool(pool, account, n, from) {
  const events = [];
  const raws = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(body(from + i));
    const blobId = createHash("sha256").update(raw).digest("hex");
    raws.push(raw);
    events.push({ type: "delivery.local", version: 1, messageId: randomUUID(), deliveryId: randomUUID(), blobId, recipient: account.address, accountId: Number(account.id), mailbox: "INBOX" });
  }
  for (let i = 0; i < n; i += 500) {
    const part = events.slice(i, i + 500);
    const rs = raws.slice(i, i + 500);
    await pool.query(
      `WITH b AS (INSERT INTO blobs (id, size, content) SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[])),
            m AS (INSERT INTO messages (id, blob_id, envelope_from, header_message_id, size, source)
                  SELECT id, blob, 'bob@remote.test', mid, size, 'smtp' FROM unnest($4::uuid[], $1::text[], $6::text[], $2::int[]) AS x(id, blob, mid, size))
       INSERT INTO deliveries (id, message_id, recipient, state, route, next_attempt_at)
       SELECT d, m, $7, 'routed', 'local', now() + interval '1 hour' FROM unnest($5::uuid[], $4::uuid[]) AS x(d, m)`,
      [
        part.map((e) => e.blobId), rs.map((r) => r.length), rs,
        part.map((e) => e.messageId), part.map((e) => e.deliveryId),
        rs.map((r) => /Message-ID: (\S+)/.exec(r.toString())[1]), account.address,
      ],
    );
  }
  return events;
}

async function run(infra, broker, service, account, label) {
  const events = await spool(infra.pool, account, total, label.length * 1_000_000);
  const db = new URL(infra.databaseUrl).pathname.slice(1);
  const pids = await backendPids(infra.pool, db);
  const before = { mailbox: cpuSeconds(service.child.pid), pg: new Map(pids.map((p) => [p, cpuSeconds(p)])) };
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < events.length) await broker.publish(events[next++]); }));
  const ids = events.map((e) => e.deliveryId);
  await eventually(async () => {
    const { rows } = await infra.pool.query("SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1::uuid[]) AND state = 'delivered'", [ids]);
    return rows[0].n === total;
  }, 30 * 60_000, `${total} delivered`);
  const ms = Date.now() - t0;
  const mailboxCpu = cpuSeconds(service.child.pid) - before.mailbox;
  let pgCpu = 0;
  for (const p of await backendPids(infra.pool, db)) pgCpu += cpuSeconds(p) - (before.pg.get(p) ?? 0);
  const per1000 = (s) => ((s * 1000) / total).toFixed(2);
  const { rows } = await infra.pool.query(
    "SELECT count(*)::int AS n FROM mailbox_messages mm JOIN mailboxes m ON m.id = mm.mailbox_id WHERE m.account_id = $1",
    [account.id],
  );
  console.log(
    `${label.padEnd(30)} ${((total * 1000) / ms).toFixed(0).padStart(6)} msg/s (${total} in ${(ms / 1000).toFixed(1)} s)` +
      `   CPU s/1000 msgs: mailbox ${per1000(mailboxCpu)}, PostgreSQL ${per1000(pgCpu)}, sum ${per1000(mailboxCpu + pgCpu)}` +
      `   (folder now ${rows[0].n} messages)`,
  );
}

async function main() {
  const infra = await isolatedInfra("bench-mailbox");
  const ops = await freePort();
  // MAILBOX_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service (written when it stops).
  const nodeArgs = (process.env.MAILBOX_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const service = spawnProcess("mailbox", [...nodeArgs, join(root, "services/mailbox/dist/main.js")], { ...infra.env, LOG_LEVEL: "warn", OPS_PORT: String(ops) });
  const broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: createLogger("bench", "silent") });
  try {
    await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 60_000, service);
    await broker.connect();
    await addDomain(infra.pool, "example.test");
    const empty = await addAccount(infra.pool, "empty@example.test", "bench-password-1");
    const big = await addAccount(infra.pool, "big@example.test", "bench-password-1");
    console.log(`mailbox append bench: ${total} deliveries per folder, ${require("node:os").cpus().length} CPUs, ${require("node:os").loadavg()[0].toFixed(1)} load`);

    await run(infra, broker, service, empty, "empty folder");

    let t = Date.now();
    const inbox = (await infra.pool.query("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [big.id])).rows[0].id;
    const seedBlob = Buffer.from(body(-1));
    const seedId = createHash("sha256").update(seedBlob).digest("hex");
    await infra.pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, $2, $3)", [seedId, seedBlob.length, seedBlob]);
    await infra.pool.query(
      `INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, size, modseq, flags)
       SELECT $1, g, $2, $3, g, CASE WHEN g % 3 = 0 THEN '{}'::text[] ELSE '{\\Seen}'::text[] END FROM generate_series(1, $4::int) g`,
      [inbox, seedId, seedBlob.length, prefill],
    );
    const counter = (await infra.pool.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'mailboxes' AND column_name = 'used_bytes'")).rowCount;
    await infra.pool.query(
      `UPDATE mailboxes SET uid_next = $2 + 1, highest_modseq = $2 + 1${counter ? ", used_bytes = $2::bigint * $3" : ""} WHERE id = $1`,
      counter ? [inbox, prefill, seedBlob.length] : [inbox, prefill],
    );
    await infra.pool.query("VACUUM ANALYZE mailbox_messages");
    console.log(`(pre-filled ${prefill} messages in ${((Date.now() - t) / 1000).toFixed(1)} s)`);

    await run(infra, broker, service, big, `folder of ${prefill}`);
  } finally {
    await broker.close().catch(() => undefined);
    await service.stop();
    await infra.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
