import { connect } from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapFlow, type FetchMessageObject } from "imapflow";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailboxWatchers } from "../src/imap/change-notifier.js";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";

const PASSWORD = "correct horse battery";
const USER = "ana@imap.test";

const MULTIPART = Buffer.from(
  [
    "From: =?utf-8?Q?Bea_Mu=C3=B1oz?= <bea@example.org>",
    "To: Ana <ana@imap.test>",
    "Subject: =?utf-8?B?Q2Fmw6kgeSBtw6Fz?=",
    "Date: Tue, 02 Jan 2024 10:00:00 +0000",
    "Message-ID: <m1@example.org>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Hola, el caf=C3=A9 est=C3=A1 listo.",
    "--b1",
    'Content-Type: application/octet-stream; name="n.bin"',
    "Content-Disposition: attachment; filename=n.bin",
    "Content-Transfer-Encoding: base64",
    "",
    "AAECAwQ=",
    "--b1--",
    "",
  ].join("\r\n"),
);
const plain = (subject: string, body = "hello") =>
  Buffer.from(`From: bea@example.org\r\nTo: ana@imap.test\r\nSubject: ${subject}\r\nDate: Wed, 03 Jan 2024 10:00:00 +0000\r\n\r\n${body}\r\n`);

let infra: IsolatedInfra;
let listener: ImapListener;
let store: MailStore;
let watchers: MailboxWatchers;
let accountId: number;

async function client(): Promise<ImapFlow> {
  const c = new ImapFlow({ host: "127.0.0.1", port: listener.port, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  return c;
}

/** A raw IMAP conversation: sends lines, returns everything up to the tagged response. */
async function raw(lines: string[], opts: { login?: boolean } = {}): Promise<string> {
  const s = connect(listener.port, "127.0.0.1");
  let buf = "";
  s.on("data", (d) => (buf += d.toString("latin1")));
  await once(s, "connect");
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(buf); i++) await new Promise((r) => setTimeout(r, 10));
  };
  await waitFor(/^\* OK/);
  if (opts.login !== false) {
    s.write(`L LOGIN ${USER} "${PASSWORD}"\r\n`);
    await waitFor(/\r\nL (OK|NO|BAD)/);
  }
  const start = buf.length;
  for (const [i, l] of lines.entries()) {
    s.write(l + "\r\n");
    const tag = l.split(" ")[0]!;
    if (i === lines.length - 1) await waitFor(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }
  s.destroy();
  return buf.slice(start);
}

beforeAll(async () => {
  infra = await isolatedInfra("imap");
  await addDomain(infra.pool, "imap.test");
  accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  store = new MailStore({ pool: infra.pool });
  watchers = new MailboxWatchers();
  listener = await startTestImapListener({ infra, mail: store, watchers, hostname: "imap.test", name: "imap-test" });
  await store.append(accountId, "INBOX", MULTIPART, { flags: [] });
  await store.append(accountId, "INBOX", plain("second"), { flags: ["\\Seen"] });
});

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

describe("IMAP server with imapflow", () => {
  it("lists mailboxes with special-use attributes and selects INBOX", async () => {
    const c = await client();
    const boxes = await c.list();
    const byName = Object.fromEntries(boxes.map((b) => [b.path, b]));
    expect(Object.keys(byName).sort()).toEqual(["Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    expect(byName.Sent!.specialUse).toBe("\\Sent");
    const box = await c.mailboxOpen("INBOX");
    expect(box.exists).toBe(2);
    await c.logout();
  });

  it("fetches envelope, body structure, flags and sections", async () => {
    const c = await client();
    await c.mailboxOpen("INBOX");
    const msgs = [];
    for await (const m of c.fetch("1:*", { envelope: true, bodyStructure: true, flags: true, size: true, internalDate: true, uid: true })) msgs.push(m);
    expect(msgs).toHaveLength(2);
    expect(msgs[0]!.envelope!.subject).toBe("Café y más");
    expect(msgs[0]!.envelope!.from![0]!.address).toBe("bea@example.org");
    expect(msgs[0]!.bodyStructure!.childNodes!.map((n) => n.type)).toEqual(["text/plain", "application/octet-stream"]);
    expect(msgs[0]!.size).toBe(MULTIPART.length);
    expect([...msgs[1]!.flags!]).toEqual(["\\Seen"]);
    const part = await c.download("1", "2", { uid: false });
    const chunks: Buffer[] = [];
    for await (const ch of part.content!) chunks.push(ch as Buffer);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0, 1, 2, 3, 4]));
    const whole = (await c.fetchOne("1", { source: true })) as FetchMessageObject;
    expect(whole.source).toEqual(MULTIPART);
    await c.logout();
  });

  it("searches with CHARSET UTF-8 in decoded headers and bodies", async () => {
    const c = await client();
    await c.mailboxOpen("INBOX");
    expect(await c.search({ subject: "café" })).toEqual([1]);
    expect(await c.search({ body: "está listo" })).toEqual([1]);
    expect(await c.search({ seen: true })).toEqual([2]);
    expect(await c.search({ seen: false, from: "bea" })).toEqual([1]);
    await c.logout();
  });

  it("stores flags, copies and moves with COPYUID, appends with APPENDUID, expunges", async () => {
    const c = await client();
    await c.mailboxOpen("INBOX");
    await c.messageFlagsAdd("1", ["\\Flagged", "$Important"]);
    const flagged = (await c.fetchOne("1", { flags: true })) as FetchMessageObject;
    expect([...flagged.flags!].sort()).toEqual(["$Important", "\\Flagged"]);
    const copied = await c.messageCopy("1", "Trash");
    expect(copied && copied.uidMap!.size).toBe(1);
    const appended = await c.append("Drafts", plain("draft"), ["\\Draft"]);
    expect(appended && appended.uid).toBe(1);
    const moved = await c.messageMove("2", "Junk");
    expect(moved && [...moved.uidMap!.values()]).toEqual([1]);
    expect(((await c.status("INBOX", { messages: true })) as { messages: number }).messages).toBe(1);
    await c.messageFlagsAdd("1", ["\\Deleted"]);
    await c.messageDelete("1");
    expect(((await c.status("INBOX", { messages: true })) as { messages: number }).messages).toBe(0);
    await c.logout();
  });

  it("treats keywords case-insensitively in STORE and SEARCH, keeping the case first stored", async () => {
    const c = await client();
    await c.mailboxCreate("Keywords");
    await c.append("Keywords", plain("keyword case"), ["$Label1"]);
    await c.mailboxOpen("Keywords");
    await c.messageFlagsAdd("1", ["$LABEL1", "\\Flagged"]);
    expect([...((await c.fetchOne("1", { flags: true })) as FetchMessageObject).flags!].sort()).toEqual(["$Label1", "\\Flagged"]); // no \Recent: imapflow enables IMAP4rev2 (RFC 9051 has none)
    expect(await c.search({ keyword: "$label1" })).toEqual([1]);
    await c.messageFlagsRemove("1", ["$label1"]);
    expect([...((await c.fetchOne("1", { flags: true })) as FetchMessageObject).flags!]).toEqual(["\\Flagged"]);
    await c.logout();
  });

  it("creates, renames and deletes mailboxes", async () => {
    const c = await client();
    await c.mailboxCreate("Work/Projects");
    await c.mailboxRename("Work", "Archive");
    const names = (await c.list()).map((b) => b.path);
    expect(names).toContain("Archive/Projects");
    expect(names).not.toContain("Work");
    await c.mailboxDelete("Archive/Projects");
    await expect(c.mailboxDelete("INBOX")).rejects.toThrow();
    await c.logout();
  });

  it("wakes IDLE with EXISTS when a message arrives in another session", async () => {
    const watcher = await client();
    await watcher.mailboxOpen("INBOX");
    const before = watcher.mailbox && typeof watcher.mailbox === "object" ? watcher.mailbox.exists : 0;
    const seen = new Promise<number>((resolve) => watcher.on("exists", (d: { count: number }) => resolve(d.count)));
    void watcher.idle();
    await new Promise((r) => setTimeout(r, 200));
    const other = await client();
    const appended = await other.append("INBOX", plain("idle wake"));
    // The notification a real deployment gets from RabbitMQ: here, straight to the watchers.
    const box = await store.findMailbox(accountId, "INBOX");
    watchers.changed(box!.id);
    expect(await seen).toBe(before + 1);
    expect(appended).toBeTruthy();
    await other.logout();
    await watcher.logout();
  });
  it("reports the last of many quick changes while idling, not only those that found IDLE waiting", async () => {
    // A notification that arrives while IDLE is still reporting the previous one must
    // cause one more report (CI: the last of 54 messages went untold until the 30 s poll).
    const watcher = await client();
    await watcher.mailboxOpen("INBOX");
    const before = watcher.mailbox && typeof watcher.mailbox === "object" ? watcher.mailbox.exists : 0;
    let told = before;
    watcher.on("exists", (d: { count: number }) => (told = Math.max(told, d.count)));
    void watcher.idle();
    await new Promise((r) => setTimeout(r, 200));
    const box = await store.findMailbox(accountId, "INBOX");
    const n = 25;
    for (let i = 0; i < n; i++) {
      await store.append(accountId, "INBOX", plain(`burst ${i}`), { flags: [] });
      watchers.changed(box!.id);
    }
    const other = await client();
    const status = await other.status("INBOX", { messages: true });
    const messages = status ? status.messages : undefined;
    await other.logout();
    expect(messages).toBeGreaterThanOrEqual(before + n);
    const deadline = Date.now() + 5_000;
    while (told < messages! && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(told).toBe(messages);
    await watcher.logout();
  });
});

describe("IMAP protocol errors", () => {
  it("answers BAD to unknown commands and commands in the wrong state", async () => {
    const out = await raw(["a1 FROB", "a2 FETCH 1 FLAGS", "a3 SELECT Nope"]);
    expect(out).toMatch(/a1 BAD unknown command FROB/);
    expect(out).toMatch(/a2 BAD FETCH needs a selected mailbox/);
    expect(out).toMatch(/a3 NO \[NONEXISTENT\]/);
  });

  it("refuses a wrong password with NO [AUTHENTICATIONFAILED]", async () => {
    const out = await raw([`a1 LOGIN ${USER} wrong-password`], { login: false });
    expect(out).toMatch(/a1 NO \[AUTHENTICATIONFAILED\]/);
  });

  it("accepts AUTHENTICATE PLAIN with an initial response", async () => {
    const token = Buffer.from(`\0${USER}\0${PASSWORD}`).toString("base64");
    const out = await raw([`a1 AUTHENTICATE PLAIN ${token}`], { login: false });
    expect(out).toMatch(/a1 OK/);
  });

  it("answers TOOBIG for a literal over the limit", async () => {
    // RFC 7888 §4: a non-synchronizing literal over the limit cannot be skipped safely; the server refuses it and closes.
    const out = await raw(["a1 APPEND INBOX {99999999+}", "a2 NOOP"]);
    expect(out).toMatch(/a1 NO \[TOOBIG\] literal larger than 1048576 octets/);
    expect(out).toMatch(/\* BYE/);
    const sync = await raw(["a1 APPEND INBOX {99999999}", "a2 NOOP"]);
    expect(sync).toMatch(/a1 NO \[TOOBIG\]/);
    expect(sync).toMatch(/a2 OK/);
  });

  it("answers BAD to an overlong command line", async () => {
    const out = await raw([`a1 NOOP ${"x".repeat(9000)}`, "a2 NOOP"]);
    expect(out).toMatch(/a1 NO \[TOOBIG\] command line too long/);
    expect(out).toMatch(/a2 OK/);
  });

  it("answers TRYCREATE when copying to a mailbox that does not exist", async () => {
    await store.append(accountId, "Trash", plain("to copy"));
    const out = await raw(["a1 SELECT Trash", "a2 COPY 1 Nowhere"]);
    expect(out).toMatch(/a2 NO \[TRYCREATE\]/);
  });
});
