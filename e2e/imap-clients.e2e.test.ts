import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapFlow, type FetchMessageObject, type StatusObject } from "imapflow";
import { startCorreo, type Correo } from "./harness.js";

const run = promisify(execFile);
const USER = "ana@example.test";
const PASSWORD = "s3cret-pass";

let correo: Correo;
let token: string;
let imapPort: number;

async function send(subject: string, text: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: USER, to: USER, subject, text }),
  });
  expect(res.status).toBe(202);
}

async function imapflow(): Promise<ImapFlow> {
  const c = new ImapFlow({ host: "127.0.0.1", port: imapPort, secure: false, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await c.connect();
  return c;
}

async function waitForCount(mailbox: string, n: number): Promise<void> {
  const c = await imapflow();
  try {
    for (let i = 0; i < 100; i++) {
      if (((await c.status(mailbox, { messages: true })) as StatusObject).messages! >= n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${mailbox} never had ${n} messages`);
  } finally {
    await c.logout();
  }
}

beforeAll(async () => {
  correo = await startCorreo("imap-clients");
  imapPort = Number(correo.env.IMAP_PORT);
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", USER, "--password-stdin"], `${PASSWORD}\n`);
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  await send("Hola desde Correo", "Llego sin que nadie esperara en linea.");
  await waitForCount("INBOX", 1);
});

afterAll(async () => {
  await correo?.stop();
});

describe("IMAP with real clients", () => {
  it("imapflow over STARTTLS: list, fetch, and IDLE woken by mail delivered through the pipeline", async () => {
    const c = new ImapFlow({ host: "127.0.0.1", port: imapPort, secure: false, doSTARTTLS: true, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
    await c.connect();
    expect(c.secureConnection).toBe(true);
    const box = await c.mailboxOpen("INBOX");
    const before = box.exists;
    const msg = (await c.fetchOne("*", { envelope: true, bodyStructure: true })) as FetchMessageObject;
    expect(msg.envelope!.subject).toBe("Hola desde Correo");
    const woke = new Promise<number>((resolve) => c.on("exists", (d: { count: number }) => resolve(d.count)));
    void c.idle();
    await new Promise((r) => setTimeout(r, 300));
    await send("Nuevo mientras IDLE", "despierta");
    expect(await woke).toBe(before + 1);
    await c.logout();
  });

  it("imapflow over implicit TLS (IMAPS)", async () => {
    const c = new ImapFlow({ host: "127.0.0.1", port: Number(correo.env.IMAPS_PORT), secure: true, auth: { user: USER, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
    await c.connect();
    expect(((await c.status("INBOX", { messages: true })) as StatusObject).messages).toBeGreaterThanOrEqual(1);
    await c.logout();
  });

  it("Python imaplib: login, list, select, search, fetch, store, copy, move, append, expunge, idle", async () => {
    await send("Hola otra vez", "Llego la segunda.");
    await waitForCount("INBOX", 3);
    const child = spawn("python3", [join(__dirname, "clients", "imap_client.py"), String(imapPort), USER, PASSWORD], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const idling = new Promise<void>((resolve) =>
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("IDLING")) resolve();
      }),
    );
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    await Promise.race([idling, exited]);
    expect(out, err).toContain("IDLING");
    await send("Para el IDLE de imaplib", "despierta");
    expect(await exited, err).toBe(0);
    expect(out).toMatch(/ok login/);
    expect(out).toMatch(/ok list .*\\Sent.*"Sent"/);
    expect(out).toMatch(/ok search [1-9]/);
    expect(out).toMatch(/ok fetch True/);
    expect(out).toMatch(/ok store True/);
    expect(out).toMatch(/ok move OK/);
    expect(out).toMatch(/ok append \[APPENDUID \d+ 1\]/);
    expect(out).toMatch(/ok expunge [1-9]/);
    expect(out).toMatch(/ok idle \* \d+ EXISTS/);
  });

  it("mbsync (isync) syncs the mailbox to a Maildir and back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "correo-mbsync-"));
    const maildir = join(dir, "mail");
    mkdirSync(maildir);
    const rc = join(dir, "mbsyncrc");
    writeFileSync(
      rc,
      [
        "IMAPAccount correo",
        "Host 127.0.0.1",
        `Port ${imapPort}`,
        `User ${USER}`,
        `Pass ${PASSWORD}`,
        "SSLType None",
        "AuthMechs LOGIN",
        "",
        "IMAPStore remote",
        "Account correo",
        "",
        "MaildirStore local",
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        "SubFolders Verbatim",
        "",
        "Channel sync",
        "Far :remote:",
        "Near :local:",
        "Patterns *",
        "Create Both",
        "Expunge Both",
        "SyncState *",
        "",
      ].join("\n"),
    );
    await run("mbsync", ["-c", rc, "-a"], { timeout: 60_000 });
    const inbox = join(maildir, "INBOX");
    const files = [...readdirSync(join(inbox, "cur")), ...readdirSync(join(inbox, "new"))];
    const status = await (async () => {
      const c = await imapflow();
      const s = (await c.status("INBOX", { messages: true })) as StatusObject;
      await c.logout();
      return s.messages!;
    })();
    expect(files.length).toBe(status);
    const sample = files.length ? [join(inbox, "cur"), join(inbox, "new")].flatMap((d) => readdirSync(d).map((f) => join(d, f)))[0]! : "";
    expect(readFileSync(sample, "utf8")).toMatch(/^Subject: /m);
    // Back: a new message and a flag change made locally reach the server.
    writeFileSync(join(inbox, "new", `${Date.now()}.local.correo`), "From: ana@example.test\r\nSubject: desde el Maildir\r\n\r\nhola\r\n");
    const [name, from] = readdirSync(join(inbox, "cur")).length
      ? [readdirSync(join(inbox, "cur"))[0]!, "cur"]
      : [readdirSync(join(inbox, "new")).find((f) => !f.includes(".local."))!, "new"];
    const [base, flags = ""] = name.split(":2,");
    renameSync(join(inbox, from, name), join(inbox, "cur", `${base}:2,${[...new Set((flags + "F").split(""))].sort().join("")}`));
    await run("mbsync", ["-c", rc, "-a"], { timeout: 60_000 });
    const c = await imapflow();
    await c.mailboxOpen("INBOX");
    expect(await c.search({ subject: "desde el Maildir" })).toHaveLength(1);
    expect(((await c.search({ flagged: true })) as number[]).length).toBeGreaterThanOrEqual(1);
    await c.logout();
  });

  it("mutt reads the INBOX in batch mode", async () => {
    const dir = mkdtempSync(join(tmpdir(), "correo-mutt-"));
    const out = join(dir, "read.txt");
    const rc = join(dir, "muttrc");
    writeFileSync(
      rc,
      [
        `set imap_user="${USER}"`,
        `set imap_pass="${PASSWORD}"`,
        "set ssl_starttls=no",
        "set ssl_force_tls=no",
        "set imap_passive=no",
        "set mail_check=0",
        "set timeout=1",
        "set header_cache=",
        "set message_cachedir=",
        "set confirmappend=no",
        "set wait_key=no",
        `set folder="imap://127.0.0.1:${imapPort}/"`,
        "set spoolfile=+INBOX",
      ].join("\n") + "\n",
    );
    // mutt needs a terminal; `script` gives it one. It pipes every message to a file and quits.
    const keys = `push '<tag-pattern>~A<enter><tag-prefix><pipe-message>cat >> ${out}<enter><quit>'`;
    await run("script", ["-qec", `TERM=xterm mutt -n -F ${rc} -e "${keys}"`, "/dev/null"], { timeout: 60_000, env: { ...process.env, TERM: "xterm" } });
    const text = readFileSync(out, "utf8");
    // (imaplib moved the first message to Junk; the one delivered during imapflow's IDLE is still here.)
    expect(text).toContain("Subject: Nuevo mientras IDLE");
  });
});
