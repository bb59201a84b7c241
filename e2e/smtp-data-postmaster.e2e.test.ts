import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort } from "@correo/testkit";
import { FakeMx } from "../services/relay-queue/test/fake-mx.js";
import { SmtpWire } from "../services/submission/test/smtp-wire.js";
import { pop3, startCorreo, type Correo } from "./harness.js";
import { smtpTransaction } from "./smtp-transaction.js";

/**
 * The SMTP edges of issue 12 that change what a user receives, on a whole Correo driven
 * over raw sockets: DATA is unstuffed by RFC 5321 §4.5.2 (the mailbox holds what the
 * sender wrote), a NUL in the header is refused for good (554, nothing kept) over SMTP
 * and HTTP, and postmaster (RFC 5321 §4.5.1) is reachable at every hosted domain and
 * in its bare form, delivered to POSTMASTER_ADDRESS. The relay passes on what the
 * sender wrote, to a partner MX on smtp-server reached through a transport.
 */
let correo: Correo;
const PASSWORD = "s3cret-pass-ana";
let token: string;
let partnerMx: FakeMx;

beforeAll(async () => {
  partnerMx = new FakeMx();
  const partnerPort = await freePort();
  await partnerMx.listen(partnerPort);
  correo = await startCorreo("e2e-smtp-data-postmaster", { POSTMASTER_ADDRESS: "ops@example.test" });
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["domain", "add", "other.test"]);
  await correo.cli(["domain", "add", "own.test"]);
  for (const a of ["ana@example.test", "ops@example.test", "postmaster@own.test"]) {
    await correo.cli(["account", "add", a, "--password-stdin"], `${PASSWORD}\n`);
  }
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  // The partner's MX (smtp-server, as the relay meets a remote host), reached through a transport.
  await correo.cli(["transport", "add", "partner.test", `127.0.0.1:${partnerPort}`, "--tls", "none"]);
});

afterAll(async () => {
  await correo?.stop();
  await partnerMx?.close();
});

/** An authenticated submission session after STARTTLS and AUTH PLAIN as ana. */
async function submissionSession(): Promise<SmtpWire> {
  const wire = await SmtpWire.open(Number(correo.env.SMTP_SUBMISSION_PORT));
  await wire.reply();
  await wire.command("EHLO client.example.test");
  expect(await wire.command("STARTTLS")).toMatch(/^220 /);
  await wire.startTls();
  await wire.command("EHLO client.example.test");
  expect(await wire.command(`AUTH PLAIN ${Buffer.from(`\0ana@example.test\0${PASSWORD}`).toString("base64")}`)).toMatch(/^235 /);
  return wire;
}

const mxPort = () => Number(correo.env.SMTP_MX_PORT);

/** One MX transaction from bob@remote.test, DATA written exactly as given; every reply in order. */
const mxSend = (rcpts: string[], data: string | Buffer) => smtpTransaction(mxPort(), "bob@remote.test", rcpts, data);

/** The messages in an account's mailboxes, raw, oldest first. */
async function mailboxOf(address: string): Promise<string[]> {
  const { rows } = await correo.infra.pool.query<{ raw: Buffer }>(
    `SELECT b.content AS raw FROM mailbox_messages mm
       JOIN mailboxes mb ON mb.id = mm.mailbox_id JOIN accounts a ON a.id = mb.account_id
       JOIN blobs b ON b.id = mm.blob_id
      WHERE lower(a.address) = lower($1) ORDER BY mm.id`,
    [address],
  );
  return rows.map((r) => r.raw.toString("latin1"));
}

async function delivered(address: string, marker: string): Promise<string> {
  let found: string | undefined;
  await eventually(async () => (found = (await mailboxOf(address)).find((m) => m.includes(marker))) !== undefined, 30_000, `${marker} in ${address}`);
  return found!;
}

async function counts(): Promise<{ messages: number; outbox: number; deliveries: number }> {
  const { rows } = await correo.infra.pool.query<{ messages: number; outbox: number; deliveries: number }>(
    `SELECT (SELECT count(*)::int FROM messages) AS messages, (SELECT count(*)::int FROM outbox) AS outbox,
            (SELECT count(*)::int FROM deliveries) AS deliveries`,
  );
  return rows[0]!;
}

describe("DATA transparency (RFC 5321 §4.5.2)", () => {
  it("deletes the first dot of every line that starts with one, and the mailbox holds what the sender wrote", async () => {
    // As a client sends it: the sender's lines "X-First: dot", "x", ".", "..y" and ".", each
    // line starting with a dot stuffed with one more (and ".x" unstuffed to "x" by the rule).
    const data = ".X-First: dot\r\nSubject: dots-e2e\r\n\r\n.x\r\n..\r\n...y\r\n.. z\r\nend\r\n.\r\n";
    const replies = await mxSend(["ana@example.test"], data);
    expect(replies.at(-2)).toMatch(/^250 2\.6\.0 Message accepted/);
    const stored = await delivered("ana@example.test", "dots-e2e");
    // Correo prepends only its Received: line; the rest is byte for byte the unstuffed data.
    expect(stored.slice(stored.indexOf("X-First:"))).toBe("X-First: dot\r\nSubject: dots-e2e\r\n\r\nx\r\n.\r\n..y\r\n. z\r\nend\r\n");
    expect(stored.indexOf("X-First:")).toBe(stored.indexOf("\r\nX-First:") + 2);
    // POP3 stuffs again on the way out (RFC 1939 §3) and Python's poplib unstuffs: the same text.
    const box = await pop3(correo, "ana@example.test", PASSWORD, "retr", 1);
    const retrieved = Buffer.from(box.message, "base64").toString("latin1");
    expect(retrieved.slice(retrieved.indexOf("X-First:"))).toBe("X-First: dot\r\nSubject: dots-e2e\r\n\r\nx\r\n.\r\n..y\r\n. z\r\nend\r\n");
  });

  it("relays on what the sender wrote: the remote MX receives the unstuffed lines", async () => {
    const wire = await submissionSession();
    expect(await wire.command("MAIL FROM:<ana@example.test>")).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<friend@partner.test>")).toMatch(/^250 /);
    expect(await wire.command("DATA")).toMatch(/^354 /);
    wire.write("From: ana@example.test\r\nSubject: dots-relayed\r\n\r\n.x\r\n..\r\n...y\r\n.\r\n");
    expect(await wire.reply()).toMatch(/^250 2\.6\.0/);
    wire.close();
    await eventually(async () => partnerMx.for("friend@partner.test").length > 0, 60_000, "relayed to the partner MX");
    const relayed = partnerMx.for("friend@partner.test")[0]!.raw;
    expect(relayed.slice(relayed.indexOf("Subject: dots-relayed"))).toBe("Subject: dots-relayed\r\n\r\nx\r\n.\r\n..y\r\n");
  });
});

describe("HTTP raw submission", () => {
  it("takes the message unstuffed, as JSON carries it: a line starting with a dot reaches the partner as written", async () => {
    const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages/raw`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        from: "ana@example.test",
        to: "dots@partner.test",
        message: "From: ana@example.test\r\nSubject: dots-http\r\n\r\n.x\r\n..\r\n.\r\nend\r\n",
      }),
    });
    expect(res.status).toBe(202);
    await eventually(async () => partnerMx.for("dots@partner.test").length > 0, 60_000, "relayed to the partner MX");
    const relayed = partnerMx.for("dots@partner.test")[0]!.raw;
    expect(relayed.slice(relayed.indexOf("Subject: dots-http"))).toBe("Subject: dots-http\r\n\r\n.x\r\n..\r\n.\r\nend\r\n");
  });
});

describe("a NUL in the header", () => {
  it("is refused over SMTP with 554 5.6.0, permanently, and nothing is kept", async () => {
    const before = await counts();
    const replies = await mxSend(["ana@example.test"], Buffer.from("Subject: nul\0inside\r\nFrom: <bob@remote.test>\r\n\r\nbody\r\n.\r\n", "latin1"));
    expect(replies.at(-2)).toBe("554 5.6.0 Message refused: its header contains a NUL byte");
    expect(await counts()).toEqual(before);
  });

  it("is refused over HTTP, raw and composed, with 400 problem+json naming the field, and nothing is kept", async () => {
    const before = await counts();
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${correo.ports.http}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as { errors?: { field: string; message: string }[] } };
    };
    const raw = await post("/v1/messages/raw", {
      from: "ana@example.test",
      to: "ana@example.test",
      message: "From: ana@example.test\r\nSubject: nul\u0000inside\r\n\r\nbody\r\n",
    });
    expect(raw).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(raw.body.errors).toEqual([{ field: "message", message: "header line 2 holds a NUL octet (RFC 5322 §4)" }]);
    const composed = await post("/v1/messages", { from: "ana@example.test", to: "ana@example.test", subject: "nul\u0000inside", text: "body" });
    expect(composed).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(composed.body.errors).toEqual([expect.objectContaining({ field: "body.subject" })]);
    expect(await counts()).toEqual(before);
  });

  it("in the body is no header problem: the message is accepted and delivered with it", async () => {
    const replies = await mxSend(["ana@example.test"], Buffer.from("Subject: nul-in-body\r\n\r\nbefore\0after\r\n.\r\n", "latin1"));
    expect(replies.at(-2)).toMatch(/^250 2\.6\.0/);
    expect(await delivered("ana@example.test", "nul-in-body")).toContain("before\0after\r\n");
  });
});

describe("postmaster (RFC 5321 §4.5.1)", () => {
  it("accepts the bare <Postmaster>, in any case, at the MX and delivers it to POSTMASTER_ADDRESS", async () => {
    const replies = await mxSend(["Postmaster"], "Subject: pm-bare\r\n\r\nhello\r\n.\r\n");
    expect(replies[3]).toMatch(/^250 /);
    expect(replies.at(-2)).toMatch(/^250 2\.6\.0/);
    await delivered("ops@example.test", "pm-bare");
    const upper = await mxSend(["POSTMASTER"], "Subject: pm-upper\r\n\r\nhello\r\n.\r\n");
    expect(upper[3]).toMatch(/^250 /);
    await delivered("ops@example.test", "pm-upper");
  });

  it("accepts postmaster@ a hosted domain without one of its own and delivers it to POSTMASTER_ADDRESS", async () => {
    const replies = await mxSend(["PostMaster@other.test"], "Subject: pm-other\r\n\r\nhello\r\n.\r\n");
    expect(replies[3]).toMatch(/^250 /);
    await delivered("ops@example.test", "pm-other");
    // Other unknown users of the domain are still unknown.
    const wire = await SmtpWire.open(mxPort());
    await wire.reply();
    await wire.command("EHLO mta.remote.test");
    await wire.command("MAIL FROM:<bob@remote.test>");
    expect(await wire.command("RCPT TO:<nobody@other.test>")).toMatch(/^550 5\.1\.1 /);
    wire.close();
  });

  it("delivers postmaster@ a domain with its own postmaster account to that account", async () => {
    await mxSend(["postmaster@own.test"], "Subject: pm-own\r\n\r\nhello\r\n.\r\n");
    await delivered("postmaster@own.test", "pm-own");
    expect((await mailboxOf("ops@example.test")).some((m) => m.includes("pm-own"))).toBe(false);
  });

  it("accepts <postmaster> from an authenticated submission client too", async () => {
    const wire = await submissionSession();
    expect(await wire.command("MAIL FROM:<ana@example.test>")).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<postmaster>")).toMatch(/^250 /);
    expect(await wire.command("DATA")).toMatch(/^354 /);
    wire.write("From: ana@example.test\r\nSubject: pm-submission\r\n\r\nhello\r\n.\r\n");
    expect(await wire.reply()).toMatch(/^250 2\.6\.0/);
    wire.close();
    await delivered("ops@example.test", "pm-submission");
  });
});
