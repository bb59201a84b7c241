import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { addAccount, addDomain } from "@correo/directory";
import { BLOB_CHUNK_OCTETS, putBlob } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { MailStore } from "@correo/mailstore";
import { loadTlsCredentials } from "@correo/tls";
// testkit is not a dependency of this service's package; its build is reached by path.
import { eventually, freePort, isolatedInfra, recordStatements, type IsolatedInfra } from "@correo/testkit";
import { startPop3Listener, type Pop3Listener } from "../src/pop3/listener.js";
import { directoryAuthenticator, maildropLockKey, PgMaildropStore } from "../src/pop3/maildrop-store.js";

const fixtures = join(__dirname, "fixtures");
const PASSWORD = "correct horse battery";
const DOMAIN = "example.test";

/** A fixture message as the mailbox stores it: CRLF line ends (the files use LF for git's sake). */
const fixture = (name: string) => Buffer.from(readFileSync(join(fixtures, name), "latin1").replace(/\r?\n/g, "\r\n"), "latin1");
const PLAIN = fixture("plain.eml");
const DOTS = fixture("dot-lines.eml");
const MULTIPART = fixture("multipart.eml");

let infra: IsolatedInfra;
let redis: Redis;
let redis2: Redis;
let pop3: Pop3Listener; // one retrieval copy
let pop3b: Pop3Listener; // another copy, its own Redis connection: the lock must hold across both
let shortIdle: Pop3Listener; // idle timeout shortened for the test
let secured: Pop3Listener; // STLS offered, no password before TLS (POP3_PLAINTEXT_AUTH=never)
let pop3s: Pop3Listener; // implicit TLS
const LOCK_TTL_MS = 600;
const AUTH_DELAY_MS = 200;

// --- helpers -------------------------------------------------------------------------

interface StepResult {
  ok: boolean;
  value?: any; // JSON from poplib, shaped per op
  error?: string;
  ms: number;
}
type Step = { conn?: string; op: string; args?: unknown[]; port?: number };

/** Runs a poplib scenario (fixtures/pop3_client.py) and returns one result per step. */
async function poplib(steps: Step[]): Promise<StepResult[]> {
  const child = spawn("python3", [join(fixtures, "pop3_client.py")], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let errOut = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (errOut += b.toString()));
  child.stdin.end(JSON.stringify({ host: "127.0.0.1", steps }));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`pop3_client.py exited with ${code}: ${errOut}`);
  const results = JSON.parse(out) as StepResult[];
  expect(results).toHaveLength(steps.length);
  return results;
}

const login = (address: string, conn = "a", port = pop3.port, password = PASSWORD): Step[] => [
  { conn, op: "connect", port },
  { conn, op: "user", args: [address] },
  { conn, op: "pass_", args: [password] },
];

/** Stores a message in the account's INBOX the way the mailbox service does (UIDNEXT, HIGHESTMODSEQ, the folder's counters). */
async function deliver(accountId: number, content: Buffer): Promise<number> {
  const blobId = await putBlob(infra.pool, content);
  const { rows } = await infra.pool.query<{ id: number; uid: number; modseq: number }>(
    `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1, message_count = message_count + 1, used_bytes = used_bytes + $2
      WHERE account_id = $1 AND name = 'INBOX'
      RETURNING id, uid_next - 1 AS uid, highest_modseq AS modseq`,
    [accountId, content.length],
  );
  const mb = rows[0]!;
  await infra.pool.query(
    "INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, size, modseq) VALUES ($1, $2, $3, $4, $5)",
    [mb.id, mb.uid, blobId, content.length, mb.modseq],
  );
  return mb.uid;
}

async function newAccount(localPart: string, messages: Buffer[]): Promise<{ id: number; address: string; uids: number[] }> {
  const account = await addAccount(infra.pool, `${localPart}@${DOMAIN}`, PASSWORD);
  const uids: number[] = [];
  for (const m of messages) uids.push(await deliver(account.id, m));
  return { id: account.id, address: account.address, uids };
}

async function inbox(accountId: number): Promise<{ uidValidity: number; highestModseq: number; uids: number[] }> {
  const { rows } = await infra.pool.query<{ id: number; uid_validity: number; highest_modseq: number }>(
    "SELECT id, uid_validity, highest_modseq FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'",
    [accountId],
  );
  const mb = rows[0]!;
  const msgs = await infra.pool.query<{ uid: number }>("SELECT uid FROM mailbox_messages WHERE mailbox_id = $1 ORDER BY uid", [mb.id]);
  return { uidValidity: mb.uid_validity, highestModseq: mb.highest_modseq, uids: msgs.rows.map((r) => r.uid) };
}

/** A raw TCP conversation, for what poplib hides: the octets on the wire. */
async function rawSession(
  port: number,
  send: (write: (s: string | Buffer) => void) => void | Promise<void>,
  until: (received: string) => boolean,
): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  let received = "";
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; received so far: ${JSON.stringify(received)}`));
    }, 10_000);
    socket.on("error", reject);
    socket.on("data", (b: Buffer) => {
      received += b.toString("latin1");
      if (until(received)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.once("connect", () => void Promise.resolve(send((s) => socket.write(s))).catch(reject));
  });
}

const b64 = (s: string) => Buffer.from(s, "base64");

// --- the suite ----------------------------------------------------------------------------

beforeAll(async () => {
  infra = await isolatedInfra("pop3");
  await addDomain(infra.pool, DOMAIN);
  redis = new Redis(infra.redisUrl);
  redis2 = new Redis(infra.redisUrl);
  const log = createLogger("retrieval-test", "silent");
  const mail = new MailStore({ pool: infra.pool });
  const common = { host: "127.0.0.1", hostname: "pop.correo.test", authenticator: directoryAuthenticator(infra.pool), log, authFailureDelayMs: AUTH_DELAY_MS };
  pop3 = await startPop3Listener({
    ...common,
    port: await freePort(),
    store: new PgMaildropStore({ pool: infra.pool, mail, redis, prefix: infra.prefix, lockTtlMs: LOCK_TTL_MS }),
  });
  pop3b = await startPop3Listener({
    ...common,
    port: await freePort(),
    store: new PgMaildropStore({ pool: infra.pool, mail, redis: redis2, prefix: infra.prefix, lockTtlMs: LOCK_TTL_MS }),
  });
  shortIdle = await startPop3Listener({
    ...common,
    port: await freePort(),
    // Long enough that a loaded machine's pause between login and DELE is not idleness.
    idleTimeoutMs: 1500,
    store: new PgMaildropStore({ pool: infra.pool, mail, redis, prefix: infra.prefix, lockTtlMs: LOCK_TTL_MS }),
  });
  const tls = await loadTlsCredentials({ hostname: "pop.correo.test" });
  const store = new PgMaildropStore({ pool: infra.pool, mail, redis, prefix: infra.prefix, lockTtlMs: LOCK_TTL_MS });
  secured = await startPop3Listener({ ...common, port: await freePort(), store, tls, plaintextAuth: "never" });
  pop3s = await startPop3Listener({ ...common, port: await freePort(), store, tls, implicitTls: true, plaintextAuth: "never" });
});

afterAll(async () => {
  await Promise.all([pop3?.close(), pop3b?.close(), shortIdle?.close(), secured?.close(), pop3s?.close()]);
  redis?.disconnect();
  redis2?.disconnect();
  await infra?.cleanup();
});

describe("POP3 retrieval with Python's poplib", () => {
  it("greets, logs in with the full address and reports the maildrop with STAT and LIST", async () => {
    const alice = await newAccount("alice", [PLAIN, DOTS, MULTIPART]);
    const r = await poplib([...login(alice.address), { op: "stat" }, { op: "list" }, { op: "list", args: [2] }, { op: "quit" }]);
    expect(r[0]!.value).toBe("+OK pop.correo.test Correo POP3 ready");
    expect(r[2]!.ok).toBe(true);
    expect(r[3]!.value).toEqual([3, PLAIN.length + DOTS.length + MULTIPART.length]);
    expect(r[4]!.value.lines).toEqual([`1 ${PLAIN.length}`, `2 ${DOTS.length}`, `3 ${MULTIPART.length}`]);
    expect(r[5]!.value.resp).toBe(`+OK 2 ${DOTS.length}`);
    expect(r[6]!.ok).toBe(true);
  });

  it("gives UIDL unique-ids <uid_validity>.<uid> that persist across sessions", async () => {
    const acc = await newAccount("uidl", [PLAIN, MULTIPART]);
    const { uidValidity, uids } = await inbox(acc.id);
    const expected = uids.map((uid, i) => `${i + 1} ${uidValidity}.${uid}`);
    const first = await poplib([...login(acc.address), { op: "uidl" }, { op: "uidl", args: [2] }, { op: "quit" }]);
    expect(first[3]!.value.lines).toEqual(expected);
    expect(first[4]!.value.resp).toBe(`+OK 2 ${uidValidity}.${uids[1]}`);
    const second = await poplib([...login(acc.address), { op: "uidl" }, { op: "quit" }]);
    expect(second[3]!.value.lines).toEqual(expected);
  });

  it("RETR returns each message byte for byte, dot-stuffing undone by the client", async () => {
    const acc = await newAccount("retr", [PLAIN, DOTS, MULTIPART]);
    const r = await poplib([...login(acc.address), { op: "retr", args: [1] }, { op: "retr", args: [2] }, { op: "retr", args: [3] }, { op: "quit" }]);
    expect(b64(r[3]!.value.content).equals(PLAIN)).toBe(true);
    expect(b64(r[4]!.value.content).equals(DOTS)).toBe(true);
    expect(b64(r[5]!.value.content).equals(MULTIPART)).toBe(true);
    expect(r[3]!.value.resp).toBe(`+OK ${PLAIN.length} octets`);
  });

  it("TOP returns the header, the blank line and the first n body lines", async () => {
    const acc = await newAccount("top", [PLAIN]);
    const text = PLAIN.toString("latin1");
    const headerEnd = text.indexOf("\r\n\r\n");
    const header = text.slice(0, headerEnd).split("\r\n");
    const body = text.slice(headerEnd + 4).split("\r\n");
    const r = await poplib([...login(acc.address), { op: "top", args: [1, 0] }, { op: "top", args: [1, 3] }, { op: "quit" }]);
    expect(r[3]!.value.lines).toEqual([...header, ""]);
    expect(r[4]!.value.lines).toEqual([...header, "", ...body.slice(0, 3)]);
  });

  it("DELE then QUIT removes the message from PostgreSQL and moves HIGHESTMODSEQ on", async () => {
    const acc = await newAccount("dele", [PLAIN, DOTS, MULTIPART]);
    const before = await inbox(acc.id);
    const r = await poplib([...login(acc.address), { op: "dele", args: [2] }, { op: "stat" }, { op: "quit" }]);
    expect(r[3]!.value).toBe("+OK message 2 deleted");
    expect(r[4]!.value).toEqual([2, PLAIN.length + MULTIPART.length]);
    expect(r[5]!.ok).toBe(true);
    const after = await inbox(acc.id);
    expect(after.uids).toEqual([before.uids[0], before.uids[2]]);
    expect(after.highestModseq).toBe(before.highestModseq + 1);
    // Recorded as an expunge in the mailbox store, where IMAP sessions look for what went.
    const gone = await infra.pool.query<{ uid: number; modseq: number }>(
      "SELECT e.uid, e.modseq FROM mailbox_expunges e JOIN mailboxes m ON m.id = e.mailbox_id WHERE m.account_id = $1",
      [acc.id],
    );
    expect(gone.rows).toEqual([{ uid: before.uids[1], modseq: after.highestModseq }]);
    // The next session sees the remaining messages, renumbered, with the same unique-ids.
    const next = await poplib([...login(acc.address), { op: "stat" }, { op: "uidl" }, { op: "quit" }]);
    expect(next[3]!.value).toEqual([2, PLAIN.length + MULTIPART.length]);
    expect(next[4]!.value.lines).toEqual([`1 ${before.uidValidity}.${before.uids[0]}`, `2 ${before.uidValidity}.${before.uids[2]}`]);
  });

  it("RSET undoes DELE: nothing is removed at QUIT", async () => {
    const acc = await newAccount("rset", [PLAIN, DOTS]);
    const before = await inbox(acc.id);
    const r = await poplib([
      ...login(acc.address),
      { op: "dele", args: [1] },
      { op: "retr", args: [1] },
      { op: "rset" },
      { op: "retr", args: [1] },
      { op: "quit" },
    ]);
    expect(r[4]!.ok).toBe(false);
    expect(r[4]!.error).toBe("-ERR no such message");
    expect(r[5]!.ok).toBe(true);
    expect(b64(r[6]!.value.content).equals(PLAIN)).toBe(true);
    expect(await inbox(acc.id)).toEqual(before);
  });

  it("a connection dropped without QUIT removes nothing and releases the lock", async () => {
    const acc = await newAccount("drop", [PLAIN]);
    const before = await inbox(acc.id);
    const r = await poplib([...login(acc.address), { op: "dele", args: [1] }, { op: "close" }]);
    expect(r[3]!.ok).toBe(true);
    await eventually(async () => (await redis.exists(maildropLockKey(infra.prefix, acc.id))) === 0, 5000, "lock released");
    expect(await inbox(acc.id)).toEqual(before);
  });

  it("answers a wrong password with -ERR [AUTH] after a delay, and an unknown user alike", async () => {
    const acc = await newAccount("auth", [PLAIN]);
    const r = await poplib([
      ...login(acc.address, "a", pop3.port, "not the password"),
      { op: "user", args: [`nobody@${DOMAIN}`] },
      { op: "pass_", args: [PASSWORD] },
      { op: "user", args: [acc.address] },
      { op: "pass_", args: [PASSWORD] },
      { op: "quit" },
    ]);
    expect(r[2]!.ok).toBe(false);
    expect(r[2]!.error).toMatch(/^-ERR \[AUTH\] /);
    expect(r[2]!.ms).toBeGreaterThanOrEqual(AUTH_DELAY_MS * 0.9);
    expect(r[4]!.error).toBe(r[2]!.error);
    expect(r[6]!.ok).toBe(true); // the same connection can still log in
    expect(await redis.exists(maildropLockKey(infra.prefix, acc.id))).toBe(0);
  });

  it("refuses a second concurrent session with -ERR [IN-USE], on the same copy and on another", async () => {
    const acc = await newAccount("lock", [PLAIN]);
    const key = maildropLockKey(infra.prefix, acc.id);
    const r = await poplib([
      ...login(acc.address, "a"),
      ...login(acc.address, "b"),
      ...login(acc.address, "c", pop3b.port),
      // Longer than the lock's TTL: the live session keeps refreshing it.
      { op: "sleep", args: [(LOCK_TTL_MS * 2.5) / 1000] },
      ...login(acc.address, "d", pop3b.port),
      { conn: "a", op: "quit" },
      { conn: "d", op: "user", args: [acc.address] },
      { conn: "d", op: "pass_", args: [PASSWORD] },
      { conn: "d", op: "stat" },
      { conn: "d", op: "quit" },
    ]);
    expect(r[2]!.ok).toBe(true);
    expect(r[5]!.error).toMatch(/^-ERR \[IN-USE\] /);
    expect(r[8]!.error).toMatch(/^-ERR \[IN-USE\] /);
    expect(r[12]!.error).toMatch(/^-ERR \[IN-USE\] /);
    expect(r[13]!.ok).toBe(true);
    expect(r[15]!.ok).toBe(true);
    expect(r[16]!.value).toEqual([1, PLAIN.length]);
    expect(await redis.exists(key)).toBe(0);
  });

  it("treats a lock held in Redis by any other copy as IN-USE", async () => {
    const acc = await newAccount("foreign", [PLAIN]);
    const key = maildropLockKey(infra.prefix, acc.id);
    await redis.set(key, "held-by-another-copy", "PX", 30_000);
    const r = await poplib([...login(acc.address), { op: "quit" }]);
    expect(r[2]!.error).toMatch(/^-ERR \[IN-USE\] /);
    expect(await redis.get(key)).toBe("held-by-another-copy"); // not ours to delete
    await redis.del(key);
  });

  it("advertises its capabilities with CAPA (RFC 2449)", async () => {
    const r = await poplib([{ op: "connect", port: pop3.port }, { op: "capa" }, { op: "quit" }]);
    expect(Object.keys(r[1]!.value)).toEqual(expect.arrayContaining(["USER", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE"]));
  });

  it("answers a command line over 255 octets with -ERR line too long and carries on", async () => {
    const acc = await newAccount("long", [PLAIN]);
    const r = await poplib([
      ...login(acc.address),
      { op: "raw", args: ["NOOP " + "x".repeat(300)] },
      { op: "noop" },
      { op: "raw", args: ["FROB"] },
      { op: "stat" },
      { op: "quit" },
    ]);
    expect(r[3]!.error).toBe("-ERR line too long");
    expect(r[4]!.value).toBe("+OK");
    expect(r[5]!.error).toBe("-ERR unknown command");
    expect(r[6]!.value).toEqual([1, PLAIN.length]);
  });
});

describe("POP3 on the wire", () => {
  it("discards a line sent without end in several chunks, then answers the next command", async () => {
    const out = await rawSession(
      pop3.port,
      async (write) => {
        // Separate TCP segments, so the server sees the line's start, middle and end apart.
        for (let i = 0; i < 10; i++) {
          write("X".repeat(1000));
          await new Promise((r) => setTimeout(r, 20));
        }
        write("\r\nCAPA\r\n");
      },
      (s) => s.endsWith("\r\n.\r\n"),
    );
    const lines = out.split("\r\n");
    expect(lines[0]).toMatch(/^\+OK /);
    expect(lines[1]).toBe("-ERR line too long");
    expect(lines[2]).toBe("+OK capability list follows");
  });

  it("byte-stuffs lines starting with '.', ends with CRLF.CRLF and turns bare LF into CRLF", async () => {
    const bareLf = Buffer.from("Subject: bare LF\n\nfirst\n.\n.second\nlast\n", "latin1");
    const acc = await newAccount("wire", [DOTS, bareLf]);
    const out = await rawSession(
      pop3.port,
      (write) => write(`USER ${acc.address}\r\nPASS ${PASSWORD}\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n`),
      (s) => s.includes("signing off"),
    );
    const stuff = (crlfText: string) => crlfText.replace(/^\./gm, "..");
    const dotsWire = `+OK ${DOTS.length} octets\r\n${stuff(DOTS.toString("latin1"))}.\r\n`;
    const lfWire = `+OK ${bareLf.length} octets\r\n${stuff(bareLf.toString("latin1").replace(/\n/g, "\r\n"))}.\r\n`;
    expect(out).toContain(dotsWire);
    expect(out).toContain(lfWire);
    expect(dotsWire).toContain("\r\n..\r\n...two dots\r\n..one dot\r\n....three dots\r\n");
  });

  it("RETR streams a message of several store reads byte for byte, stuffing the dots at the reads' edges", async () => {
    const C = BLOB_CHUNK_OCTETS;
    let text = "From: big@remote.test\r\nSubject: larger than three reads\r\n\r\n";
    /** Body lines of "a"s up to offset `target` exactly (a line starts there). */
    const fillTo = (target: number) => {
      for (let rest = target - text.length; rest > 0; ) {
        let n = Math.min(rest, 80);
        if (rest - n === 1) n -= 2;
        text += "a".repeat(n - 2) + "\r\n";
        rest -= n;
      }
      expect(text.length).toBe(target);
    };
    fillTo(C);
    text += ".a dot that starts the second read\r\n";
    fillTo(2 * C - 20);
    text += "." + "b".repeat(18) + "\r\n"; // its CR ends the second read, its LF starts the third
    text += ".after the split line end\r\n.\r\n..two\r\n";
    fillTo(3 * C - 3);
    text += "mid.dot in the middle of a line, the first octet of the fourth read\r\n";
    text += "last line\r\n";
    const big = Buffer.from(text, "latin1");
    expect(big[2 * C - 1]).toBe(0x0d);
    expect(big[2 * C]).toBe(0x0a);
    expect(big[3 * C]).toBe(0x2e);
    const acc = await newAccount("bigretr", [big]);

    const recorder = await recordStatements(infra.pool);
    const chunks: Buffer[] = [];
    try {
      const socket = connect(pop3.port, "127.0.0.1");
      socket.on("data", (b: Buffer) => chunks.push(b));
      socket.once("connect", () => socket.write(`USER ${acc.address}\r\nPASS ${PASSWORD}\r\nRETR 1\r\nQUIT\r\n`));
      await once(socket, "close");
    } finally {
      recorder.restore();
    }
    const out = Buffer.concat(chunks).toString("latin1");
    const expected = `+OK ${big.length} octets\r\n${text.replace(/^\./gm, "..")}.\r\n`;
    const at = out.indexOf(`+OK ${big.length} octets`);
    const got = out.slice(at, at + expected.length);
    let firstDifference = -1;
    for (let i = 0; i < expected.length && firstDifference < 0; i++) if (got[i] !== expected[i]) firstDifference = i;
    expect({ firstDifference, length: got.length }).toEqual({ firstDifference: -1, length: expected.length });
    expect(out.slice(at + expected.length)).toMatch(/^\+OK .*signing off.*\r\n$/);
    // Read in slices, never whole: four reads for a message of a little over three.
    expect(recorder.statements.filter((q) => q === "SELECT substring(content FROM")).toHaveLength(4);
    expect(recorder.statements).not.toContain("SELECT content FROM");
  });

  it("answers pipelined commands in order (RFC 2449 §6.6)", async () => {
    const acc = await newAccount("pipe", [PLAIN, DOTS]);
    const out = await rawSession(
      pop3.port,
      (write) => write(`USER ${acc.address}\r\nPASS ${PASSWORD}\r\nSTAT\r\nLIST 2\r\nDELE 1\r\nSTAT\r\nRSET\r\nQUIT\r\n`),
      (s) => s.includes("signing off"),
    );
    const lines = out.split("\r\n").filter(Boolean);
    expect(lines.slice(3, 7)).toEqual([
      `+OK 2 ${PLAIN.length + DOTS.length}`,
      `+OK 2 ${DOTS.length}`,
      "+OK message 1 deleted",
      `+OK 1 ${DOTS.length}`,
    ]);
    expect(lines).toHaveLength(9);
  });

  it("closes an idle session without a response and without UPDATE (RFC 1939 §3)", async () => {
    const acc = await newAccount("idle", [PLAIN]);
    const before = await inbox(acc.id);
    const r = await poplib([...login(acc.address, "a", shortIdle.port), { op: "dele", args: [1] }, { op: "sleep", args: [4] }, { op: "noop" }]);
    expect(r[3]!.ok).toBe(true);
    expect(r[5]!.ok).toBe(false);
    await eventually(async () => (await redis.exists(maildropLockKey(infra.prefix, acc.id))) === 0, 5000, "lock released");
    expect(await inbox(acc.id)).toEqual(before);
    await eventually(async () => shortIdle.connections === 0, 5000, "connection closed");
  });
});

describe("POP3 with TLS: STLS (RFC 2595), POP3S (RFC 8314) and AUTH PLAIN (RFC 5034)", () => {
  it("poplib upgrades with STLS; USER and SASL PLAIN are offered and accepted only after it", async () => {
    const acc = await newAccount("stls", [PLAIN, MULTIPART]);
    const r = await poplib([
      { op: "connect", port: secured.port },
      { op: "capa" },
      { op: "user", args: [acc.address] },
      { op: "stls" },
      { op: "capa" },
      { op: "auth_plain", args: [acc.address, PASSWORD, "continuation"] },
      { op: "stat" },
      { op: "retr", args: [2] },
      { op: "quit" },
    ]);
    expect(Object.keys(r[1]!.value)).toEqual(expect.arrayContaining(["STLS", "PIPELINING", "RESP-CODES"]));
    expect(Object.keys(r[1]!.value)).not.toContain("USER");
    expect(Object.keys(r[1]!.value)).not.toContain("SASL");
    expect(r[2]!.error).toMatch(/^-ERR \[AUTH\] plaintext authentication is not allowed/);
    expect(r[3]!.value.tls).toMatch(/^TLSv1\.[23]$/);
    expect(r[4]!.value).toMatchObject({ USER: [], SASL: ["PLAIN"] });
    expect(Object.keys(r[4]!.value)).not.toContain("STLS");
    expect(r[5]!.value.challenge).toBe("+ ");
    expect(r[5]!.value.resp).toMatch(/^\+OK maildrop locked and ready, 2 messages/);
    expect(r[6]!.value).toEqual([2, PLAIN.length + MULTIPART.length]);
    expect(b64(r[7]!.value.content).equals(MULTIPART)).toBe(true);
    expect(r[8]!.ok).toBe(true);
  });

  it("poplib reads over POP3S with USER/PASS and with AUTH PLAIN's initial response", async () => {
    const acc = await newAccount("pop3s", [DOTS]);
    const r = await poplib([
      { op: "connect_ssl", port: pop3s.port },
      { op: "capa" },
      { op: "user", args: [acc.address] },
      { op: "pass_", args: [PASSWORD] },
      { op: "retr", args: [1] },
      { op: "quit" },
      { op: "connect_ssl", port: pop3s.port },
      { op: "auth_plain", args: [acc.address, "wrong"] },
      { op: "auth_plain", args: [acc.address, PASSWORD] },
      { op: "uidl" },
      { op: "quit" },
    ]);
    expect(r[0]!.value.welcome).toBe("+OK pop.correo.test Correo POP3 ready");
    expect(r[0]!.value.tls).toMatch(/^TLSv1\.[23]$/);
    expect(r[1]!.value).toMatchObject({ USER: [], SASL: ["PLAIN"] });
    expect(Object.keys(r[1]!.value)).not.toContain("STLS");
    expect(r[3]!.ok).toBe(true);
    expect(b64(r[4]!.value.content).equals(DOTS)).toBe(true);
    expect(r[7]!.error).toMatch(/^-ERR \[AUTH\] invalid user name or password/);
    expect(r[8]!.value.resp).toMatch(/^\+OK maildrop locked/);
    expect(r[9]!.value.lines).toHaveLength(1);
  });

  it("discards commands pipelined after STLS in the same packet (no plaintext injection)", async () => {
    const acc = await newAccount("inject", [PLAIN]);
    const plain = connect(secured.port, "127.0.0.1");
    let clear = "";
    plain.on("data", (b: Buffer) => (clear += b.toString("latin1")));
    await eventually(async () => clear.includes("\r\n"), 5000, "greeting");
    // One write, one TCP segment: STLS and two commands an attacker would like to slip in.
    plain.write(`STLS\r\nUSER ${acc.address}\r\nCAPA\r\n`);
    await eventually(async () => clear.includes("begin TLS negotiation\r\n"), 5000, "STLS answer");
    plain.removeAllListeners("data");
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    await once(secure, "secureConnect");
    let inside = "";
    secure.on("data", (b: Buffer) => (inside += b.toString("latin1")));
    secure.write(`PASS ${PASSWORD}\r\nQUIT\r\n`);
    await eventually(async () => inside.includes("signing off"), 5000, "QUIT answer");
    secure.destroy();
    // Nothing after the STLS answer in the clear; inside TLS, PASS finds no USER and no CAPA listing.
    expect(clear.split("\r\n").filter(Boolean)).toEqual(["+OK pop.correo.test Correo POP3 ready", "+OK begin TLS negotiation"]);
    expect(inside).toBe("-ERR USER first\r\n+OK pop.correo.test Correo POP3 signing off\r\n");
    expect(await redis.exists(maildropLockKey(infra.prefix, acc.id))).toBe(0);
  });
});
