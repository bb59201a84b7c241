/**
 * Each POP3 command of packages/pop3 against the real storage: the session fed command
 * lines directly (no socket), the directory and the maildrop of PostgreSQL and Redis
 * behind it, as the retrieval service wires them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { Pop3Session, responseChunks, type Pop3Response } from "@correo/pop3";
import { putBlob } from "@correo/spool";
import { isolatedInfra, recordStatements, type IsolatedInfra } from "@correo/testkit";
import { directoryAuthenticator, PgMaildropStore, READ_AHEAD_MESSAGES, READ_AHEAD_OCTETS } from "../src/pop3/maildrop-store.js";

const PASSWORD = "correct horse battery";
const DOMAIN = "commands.test";
const FIRST = Buffer.from("Subject: first\r\n\r\nline one\r\n.dot line\r\nline three\r\n");
const SECOND = Buffer.from("Subject: second\r\nX-Long: yes\r\n\r\nbody\r\n");

let infra: IsolatedInfra;
let redis: Redis;
let store: PgMaildropStore;
let mail: MailStore;

async function deliver(accountId: number, content: Buffer): Promise<number> {
  const blobId = await putBlob(infra.pool, content);
  const { rows } = await infra.pool.query<{ id: number; uid: number; modseq: number }>(
    `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1, message_count = message_count + 1, used_bytes = used_bytes + $2
      WHERE account_id = $1 AND name = 'INBOX' RETURNING id, uid_next - 1 AS uid, highest_modseq AS modseq`,
    [accountId, content.length],
  );
  const mb = rows[0]!;
  await infra.pool.query("INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, size, modseq) VALUES ($1, $2, $3, $4, $5)", [
    mb.id,
    mb.uid,
    blobId,
    content.length,
    mb.modseq,
  ]);
  return mb.uid;
}

async function account(localPart: string): Promise<{ id: number; address: string; uidValidity: number; uids: number[] }> {
  const a = await addAccount(infra.pool, `${localPart}@${DOMAIN}`, PASSWORD);
  const uids = [await deliver(a.id, FIRST), await deliver(a.id, SECOND)];
  const { rows } = await infra.pool.query<{ uid_validity: number }>("SELECT uid_validity FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [a.id]);
  return { id: a.id, address: a.address, uidValidity: rows[0]!.uid_validity, uids };
}

const session = () => new Pop3Session({ hostname: "pop.commands.test", authenticator: directoryAuthenticator(infra.pool), store, delayAfterAuthFailure: async () => undefined });

/** The octets of a response as the listener sends them. */
async function wire(r: Pop3Response): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of responseChunks(r)) parts.push(p);
  return Buffer.concat(parts).toString("latin1");
}

async function loggedIn(address: string): Promise<Pop3Session> {
  const s = session();
  expect((await s.handleLine(`USER ${address}`)).ok).toBe(true);
  const pass = await s.handleLine(`PASS ${PASSWORD}`);
  expect(pass.ok).toBe(true);
  return s;
}

beforeAll(async () => {
  infra = await isolatedInfra("pop3cmd");
  await addDomain(infra.pool, DOMAIN);
  redis = new Redis(infra.redisUrl);
  mail = new MailStore({ pool: infra.pool });
  store = new PgMaildropStore({ pool: infra.pool, mail, redis, prefix: infra.prefix, lockTtlMs: 5_000 });
});

afterAll(async () => {
  redis?.disconnect();
  await infra?.cleanup();
});

describe("POP3 commands on the real maildrop", () => {
  it("USER + PASS locks the maildrop and reports its size (RFC 1939 §7)", async () => {
    const a = await account("pass");
    const s = session();
    await s.handleLine(`USER ${a.address}`);
    const r = await s.handleLine(`PASS ${PASSWORD}`);
    expect(await wire(r)).toBe(`+OK maildrop locked and ready, 2 messages (${FIRST.length + SECOND.length} octets)\r\n`);
    expect(s.state).toBe("TRANSACTION");
    await s.abort();
  });

  it("PASS with a wrong password answers -ERR [AUTH] and stays in AUTHORIZATION (RFC 3206 §5)", async () => {
    const a = await account("wrong");
    const s = session();
    await s.handleLine(`USER ${a.address}`);
    expect(await wire(await s.handleLine("PASS not it"))).toBe("-ERR [AUTH] invalid user name or password\r\n");
    expect(s.state).toBe("AUTHORIZATION");
  });

  it("AUTH PLAIN with an initial response logs in (RFC 5034 §4)", async () => {
    const a = await account("auth");
    const s = session();
    const r = await s.handleLine(`AUTH PLAIN ${Buffer.from(`\0${a.address}\0${PASSWORD}`).toString("base64")}`);
    expect(r.ok).toBe(true);
    expect(s.state).toBe("TRANSACTION");
    await s.abort();
  });

  it("a second session on the same maildrop gets -ERR [IN-USE] (RFC 2449 §8.1.2)", async () => {
    const a = await account("inuse");
    const first = await loggedIn(a.address);
    const second = session();
    await second.handleLine(`USER ${a.address}`);
    expect(await wire(await second.handleLine(`PASS ${PASSWORD}`))).toBe("-ERR [IN-USE] maildrop is locked by another session\r\n");
    await first.handleLine("QUIT");
    await second.handleLine(`USER ${a.address}`);
    expect((await second.handleLine(`PASS ${PASSWORD}`)).ok).toBe(true);
    await second.abort();
  });

  it("STAT, LIST and UIDL describe the stored messages (RFC 1939 §5, §7)", async () => {
    const a = await account("listing");
    const s = await loggedIn(a.address);
    expect(await wire(await s.handleLine("STAT"))).toBe(`+OK 2 ${FIRST.length + SECOND.length}\r\n`);
    expect(await wire(await s.handleLine("LIST"))).toBe(`+OK scan listing follows\r\n1 ${FIRST.length}\r\n2 ${SECOND.length}\r\n.\r\n`);
    expect(await wire(await s.handleLine("LIST 2"))).toBe(`+OK 2 ${SECOND.length}\r\n`);
    expect(await wire(await s.handleLine("UIDL"))).toBe(
      `+OK unique-id listing follows\r\n1 ${a.uidValidity}.${a.uids[0]}\r\n2 ${a.uidValidity}.${a.uids[1]}\r\n.\r\n`,
    );
    expect(await wire(await s.handleLine("UIDL 3"))).toBe("-ERR no such message\r\n");
    await s.abort();
  });

  it("RETR streams the stored octets byte-stuffed; TOP sends the header and n body lines", async () => {
    const a = await account("retr");
    const s = await loggedIn(a.address);
    expect(await wire(await s.handleLine("RETR 1"))).toBe(
      `+OK ${FIRST.length} octets\r\nSubject: first\r\n\r\nline one\r\n..dot line\r\nline three\r\n.\r\n`,
    );
    expect(await wire(await s.handleLine("TOP 1 1"))).toBe("+OK top of message follows\r\nSubject: first\r\n\r\nline one\r\n.\r\n");
    expect(await wire(await s.handleLine("TOP 2 0"))).toBe("+OK top of message follows\r\nSubject: second\r\nX-Long: yes\r\n\r\n.\r\n");
    await s.abort();
  });

  it("DELE marks, RSET unmarks, and without QUIT nothing is removed (RFC 1939 §6)", async () => {
    const a = await account("rset");
    const s = await loggedIn(a.address);
    expect(await wire(await s.handleLine("DELE 1"))).toBe("+OK message 1 deleted\r\n");
    expect(await wire(await s.handleLine("RETR 1"))).toBe("-ERR no such message\r\n");
    expect(await wire(await s.handleLine("DELE 1"))).toBe("-ERR message 1 already deleted\r\n");
    expect(await wire(await s.handleLine("STAT"))).toBe(`+OK 1 ${SECOND.length}\r\n`);
    expect(await wire(await s.handleLine("RSET"))).toBe(`+OK maildrop has 2 messages (${FIRST.length + SECOND.length} octets)\r\n`);
    await s.handleLine("DELE 2");
    await s.abort();
    const { rows } = await infra.pool.query("SELECT uid FROM mailbox_messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = $1", [a.id]);
    expect(rows).toHaveLength(2);
  });

  it("QUIT in TRANSACTION removes the marked messages from the INBOX and releases the lock", async () => {
    const a = await account("quit");
    const s = await loggedIn(a.address);
    await s.handleLine("DELE 1");
    const r = await s.handleLine("QUIT");
    expect(await wire(r)).toBe("+OK pop.commands.test Correo POP3 signing off (1 messages left)\r\n");
    expect(r.close).toBe(true);
    const { rows } = await infra.pool.query<{ uid: number }>(
      "SELECT uid FROM mailbox_messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = $1 ORDER BY uid",
      [a.id],
    );
    expect(rows.map((row) => row.uid)).toEqual([a.uids[1]]);
    const again = await loggedIn(a.address);
    expect(await wire(await again.handleLine("STAT"))).toBe(`+OK 1 ${SECOND.length}\r\n`);
    await again.abort();
  });

  it("NOOP and CAPA answer in TRANSACTION; USER does not", async () => {
    const a = await account("noop");
    const s = await loggedIn(a.address);
    expect(await wire(await s.handleLine("NOOP"))).toBe("+OK\r\n");
    expect(await wire(await s.handleLine("CAPA"))).toBe(
      "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Correo\r\n.\r\n",
    );
    expect(await wire(await s.handleLine(`USER ${a.address}`))).toBe("-ERR USER not valid in TRANSACTION state\r\n");
    await s.abort();
  });

  it("RETR reads ahead: every message byte for byte, in order or not, small and large, at one query per batch", async () => {
    const a = await addAccount(infra.pool, `ahead@${DOMAIN}`, PASSWORD);
    const count = READ_AHEAD_MESSAGES * 2 + 5;
    const bodies: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      // Message 70 is larger than the read-ahead budget: streamed in slices, not read ahead.
      const filler = i === 70 ? "x".repeat(READ_AHEAD_OCTETS + 10) : `line ${i}`;
      bodies.push(Buffer.from(`Subject: ${i}\r\n\r\n.${filler}\r\n`));
      await deliver(a.id, bodies[i]!);
    }
    const expected = (n: number) => `+OK ${bodies[n - 1]!.length} octets\r\n${bodies[n - 1]!.toString("latin1").replace(/\r\n\./g, "\r\n..")}.\r\n`;
    const s = await loggedIn(a.address);
    const recorder = await recordStatements(infra.pool);
    try {
      for (let n = 1; n <= count; n++) expect(await wire(await s.handleLine(`RETR ${n}`))).toBe(expected(n));
    } finally {
      recorder.restore();
    }
    const reads = recorder.statements.filter((q) => !q.startsWith("SELECT substring"));
    // The listing (the first RETR needs it), then four reads: 1–64, 65–69 (the budget ends
    // before the large one), 70 alone (its size only; its octets come in slices), 71–133.
    // A query per message would be 133 or more.
    expect(reads).toHaveLength(5);
    expect(reads[0]).toBe("SELECT uid, size,");
    // Out of order, and again after a message was already sent.
    for (const n of [count, 3, 70, 3, 1]) expect(await wire(await s.handleLine(`RETR ${n}`))).toBe(expected(n));
    await s.abort();
  });

  it("keeps the snapshot of the login: a message delivered later is neither counted nor listed", async () => {
    const a = await account("snapshot");
    const s = await loggedIn(a.address);
    await deliver(a.id, Buffer.from("Subject: late\r\n\r\nlate\r\n"));
    expect(await wire(await s.handleLine("STAT"))).toBe(`+OK 2 ${FIRST.length + SECOND.length}\r\n`);
    expect(await wire(await s.handleLine("LIST"))).toBe(`+OK scan listing follows\r\n1 ${FIRST.length}\r\n2 ${SECOND.length}\r\n.\r\n`);
    expect(await wire(await s.handleLine("RETR 3"))).toBe("-ERR no such message\r\n");
    await s.abort();
  });
});
