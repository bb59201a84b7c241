import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually, repoRoot } from "@correo/testkit";
import { startCorreo, type Correo } from "./harness.js";

/**
 * POP3 with real clients against a whole Correo started as `pnpm start` starts it:
 * Python's poplib over STLS (AUTH PLAIN) and over POP3S, getmail pulling over POP3S
 * into a Maildir and keeping the mail, fetchmail pulling over POP3 with STLS into an
 * mbox and deleting it from the server.
 */
const run = promisify(execFile);
const ADDRESS = "pia@example.test";
const PASSWORD = "pia-secret-pass";
const SUBJECTS = ["Primera carta", "Segunda carta · ñandú", "Tercera carta"];

let correo: Correo;
let apiKey: string;
let work: string;

beforeAll(async () => {
  correo = await startCorreo("e2e-pop3");
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", ADDRESS, "--password-stdin"], `${PASSWORD}\n`);
  apiKey = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  for (const [i, subject] of SUBJECTS.entries()) {
    const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ from: ADDRESS, to: ADDRESS, subject, text: `Carta número ${i + 1}.\n.\nFin.\n` }),
    });
    expect(res.status).toBe(202);
  }
  work = mkdtempSync(join(tmpdir(), "correo-pop3-e2e-"));
});

afterAll(async () => {
  await correo?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Python's poplib, driven step by step (services/retrieval/test/fixtures/pop3_client.py). */
async function poplib(steps: { conn?: string; op: string; args?: unknown[]; port?: number }[]): Promise<any[]> {
  const child = spawn("python3", [join(repoRoot, "services", "retrieval", "test", "fixtures", "pop3_client.py")], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  child.stdin.end(JSON.stringify({ host: "127.0.0.1", steps }));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`pop3_client.py exited with ${code}: ${err}`);
  return JSON.parse(out);
}

async function inboxCount(): Promise<number> {
  const r = await poplib([
    { op: "connect_ssl", port: correo.ports.pop3s },
    { op: "user", args: [ADDRESS] },
    { op: "pass_", args: [PASSWORD] },
    { op: "stat" },
    { op: "quit" },
  ]);
  if (!r[2].ok) throw new Error(r[2].error);
  return r[3].value[0];
}

describe("POP3 with real clients", () => {
  it("delivers the three messages, which poplib reads over STLS with AUTH PLAIN", async () => {
    await eventually(async () => (await inboxCount()) === 3, 30_000, "three messages in the INBOX");
    const r = await poplib([
      { op: "connect", port: correo.ports.pop3 },
      { op: "capa" },
      { op: "stls" },
      { op: "capa" },
      { op: "auth_plain", args: [ADDRESS, PASSWORD, "continuation"] },
      { op: "uidl" },
      { op: "retr", args: [2] },
      { op: "quit" },
    ]);
    expect(Object.keys(r[1].value)).toEqual(expect.arrayContaining(["STLS", "USER", "SASL", "PIPELINING", "RESP-CODES", "AUTH-RESP-CODE", "UIDL", "TOP"]));
    expect(r[2].value.tls).toMatch(/^TLSv1\.[23]$/);
    expect(Object.keys(r[3].value)).not.toContain("STLS");
    expect(r[4].value.resp).toMatch(/^\+OK maildrop locked and ready, 3 messages/);
    expect(r[5].value.lines).toHaveLength(3);
    // The three were sent at once: the order they got their UIDs in is the order they were delivered.
    const mail = await simpleParser(Buffer.from(r[6].value.content, "base64"));
    const n = SUBJECTS.indexOf(mail.subject!) + 1;
    expect(n).toBeGreaterThan(0);
    expect(mail.text).toBe(`Carta número ${n}.\n.\nFin.\n`);
  });

  it("poplib reads over POP3S (implicit TLS) with USER/PASS", async () => {
    const r = await poplib([
      { op: "connect_ssl", port: correo.ports.pop3s },
      { op: "user", args: [ADDRESS] },
      { op: "pass_", args: [PASSWORD] },
      { op: "top", args: [1, 0] },
      { op: "quit" },
    ]);
    expect(r[0].value.tls).toMatch(/^TLSv1\.[23]$/);
    expect(r[2].ok).toBe(true);
    expect(r[3].value.lines).toContain(`Subject: ${SUBJECTS[0]}`);
  });

  it("getmail pulls every message over POP3S into a Maildir and leaves them on the server", async () => {
    const maildir = join(work, "Maildir");
    for (const d of ["cur", "new", "tmp"]) mkdirSync(join(maildir, d), { recursive: true });
    // getmail will not deliver as root; then it delivers as nobody, who must own the Maildir.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chmodSync(work, 0o755);
      await run("chown", ["-R", "nobody", maildir]);
    }
    const getmailDir = join(work, "getmail");
    mkdirSync(getmailDir, { recursive: true });
    const rc = join(getmailDir, "getmailrc");
    writeFileSync(
      rc,
      [
        "[retriever]",
        "type = SimplePOP3SSLRetriever",
        "server = 127.0.0.1",
        `port = ${correo.ports.pop3s}`,
        `username = ${ADDRESS}`,
        `password = ${PASSWORD}`,
        "",
        "[destination]",
        "type = Maildir",
        `path = ${maildir}/`,
        ...(asRoot ? ["user = nobody"] : []),
        "",
        "[options]",
        "read_all = true",
        "delete = false",
        "verbose = 1",
        "",
      ].join("\n"),
    );
    const { stdout } = await run("getmail", ["--getmaildir", getmailDir, "--rcfile", rc], { timeout: 60_000 });
    expect(stdout).toMatch(/3 messages \(\d+ bytes\) retrieved/);
    const files = readdirSync(join(maildir, "new"));
    expect(files).toHaveLength(3);
    const subjects = await Promise.all(files.map(async (f) => (await simpleParser(readFileSync(join(maildir, "new", f)))).subject));
    expect(subjects.sort()).toEqual([...SUBJECTS].sort());
    expect(await inboxCount()).toBe(3);
  });

  it("fetchmail pulls every message over POP3 with STLS into an mbox and deletes them from the server", async () => {
    const home = join(work, "fetchmail");
    mkdirSync(home, { recursive: true });
    const mbox = join(home, "mbox");
    const mda = join(home, "mda.py");
    // An MDA that appends the message on stdin to an mbox file, as procmail or maildrop would.
    writeFileSync(mda, `import mailbox, sys\nbox = mailbox.mbox(${JSON.stringify(mbox)})\nbox.lock(); box.add(sys.stdin.buffer.read()); box.flush(); box.unlock()\n`);
    const rc = join(home, "fetchmailrc");
    writeFileSync(
      rc,
      [
        `poll 127.0.0.1 service ${correo.ports.pop3} protocol pop3 auth password`,
        `  user "${ADDRESS}" there with password "${PASSWORD}"`,
        // sslproto without ssl: upgrade the plain connection with STLS (RFC 2595); the test certificate is self-signed.
        `  sslproto "TLS1.2+" no sslcertck fetchall nokeep`,
        `  mda "python3 ${mda}"`,
        "",
      ].join("\n"),
    );
    chmodSync(rc, 0o600);
    const result = await run("fetchmail", ["-f", rc, "-v", "--nosyslog", "-i", join(home, "fetchids")], { env: { ...process.env, HOME: home }, timeout: 60_000 }).catch(
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    const log = `${result.stdout}\n${result.stderr}`;
    expect(log, log).toContain("STLS");
    expect(log, log).toMatch(/3 messages for pia@example\.test at 127\.0\.0\.1/);
    const { stdout: mboxText } = await run("python3", ["-c", `import mailbox, email.header as h; print("\\n".join(str(h.make_header(h.decode_header(m["Subject"]))) for m in mailbox.mbox(${JSON.stringify(mbox)})))`]);
    expect(mboxText.trim().split("\n").sort()).toEqual([...SUBJECTS].sort());
    expect(await inboxCount()).toBe(0);
  });
});
