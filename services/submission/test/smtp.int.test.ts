import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import nodemailer from "nodemailer";
import { Redis } from "ioredis";
import { addAccount, addAlias, addDomain } from "@correo/directory";
import { eventually, isolatedInfra, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";
import { spawnSubmission, submissionPorts } from "./submission-process.js";

const run = promisify(execFile);

/**
 * The SMTP listeners as a client sees them: the submission service started from its
 * build, exactly as `pnpm start` runs it, on free ports, against the real PostgreSQL,
 * RabbitMQ and Redis; driven by nodemailer, Python's smtplib, swaks and raw sockets.
 */
let infra: IsolatedInfra;
let service: RunningProcess;
let redis: Redis;
const ports = submissionPorts();
const PASSWORD = "s3cret-pass-ana";

async function messageCount(): Promise<number> {
  const { rows } = await infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM messages");
  return rows[0]!.n;
}

async function storedMessage(id: string) {
  const { rows } = await infra.pool.query(
    `SELECT m.*, convert_from(b.content, 'UTF8') AS raw FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.id = $1`,
    [id],
  );
  return rows[0];
}

const queuedId = (reply: string) => /queued as ([0-9a-f-]{36})/.exec(reply)?.[1];

/** One MX transaction over a raw socket, with DATA written exactly as given. */
async function mxSend(rcpts: string[], data: string, from = "bob@remote.test"): Promise<{ replies: string[]; wire: SmtpWire }> {
  const wire = await SmtpWire.open(ports.mx);
  const replies = [await wire.reply(), await wire.command("EHLO client.remote.test"), await wire.command(`MAIL FROM:<${from}>`)];
  for (const r of rcpts) replies.push(await wire.command(`RCPT TO:<${r}>`));
  replies.push(await wire.command("DATA"));
  wire.write(data);
  replies.push(await wire.reply());
  return { replies, wire };
}

beforeAll(async () => {
  infra = await isolatedInfra("submission-smtp");
  await addDomain(infra.pool, "example.test");
  await addAccount(infra.pool, "ana@example.test", PASSWORD);
  await addAccount(infra.pool, "rate@example.test", PASSWORD);
  await addAccount(infra.pool, "rate-burst@example.test", PASSWORD);
  await addAccount(infra.pool, "rate-back@example.test", PASSWORD);
  await addAccount(infra.pool, "fail-store@example.test", PASSWORD);
  service = await spawnSubmission(infra, ports, {
    MAX_MESSAGE_SIZE: "200000",
    SMTP_MAX_RECIPIENTS: "5",
    AUTH_MAX_FAILURES_PER_IP: "6",
    AUTH_PENALTY_BASE: "100ms",
    AUTH_PENALTY_MAX: "800ms",
    SMTP_MAX_CONNECTIONS_PER_IP: "8",
    SMTP_MESSAGES_PER_HOUR: "3",
    SMTP_IDLE_TIMEOUT: "3s",
    SMTP_SESSION_TIMEOUT: "8s",
  });
  await waitForHttp(`http://127.0.0.1:${ports.ops}/healthz`, 30_000, service);
  await eventually(async () => service.output().includes("SMTP listeners up"), 30_000, "SMTP listeners up");
  redis = new Redis(infra.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await service?.stop();
  await infra?.cleanup();
});

beforeEach(async () => {
  // Each test starts with no failed logins on record (per client address and per account).
  const keys = await redis.keys(`${infra.prefix}:login:*`);
  if (keys.length) await redis.del(...keys);
});

describe("MX listener", () => {
  it("accepts mail for an existing local user from another server, with a Received: line (swaks)", async () => {
    const { stdout } = await run("swaks", [
      "--server", `127.0.0.1:${ports.mx}`, "--ehlo", "mta.remote.test",
      "--from", "bob@remote.test", "--to", "ana@example.test", "--header", "Subject: por MX",
    ]);
    const id = queuedId(stdout);
    expect(stdout).toMatch(/<- {2}250 2\.6\.0 Message accepted, queued as/);
    const m = await storedMessage(id!);
    expect(m.source).toBe("smtp");
    expect(m.envelope_from).toBe("bob@remote.test");
    expect(m.subject).toBe("por MX");
    expect(m.raw).toMatch(/^Received: from mta\.remote\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.correo\.test \(Correo\) with ESMTP id \S+\r\n\tfor <ana@example\.test>;/);
    // One id per message: the Received: line names the id the 250 reply and the spool use.
    expect(m.raw).toContain(` with ESMTP id ${id}\r\n`);
  });

  it("accepts mail for an alias from another server (swaks)", async () => {
    await addAlias(infra.pool, "team@example.test", ["ana@example.test"]);
    const { stdout } = await run("swaks", [
      "--server", `127.0.0.1:${ports.mx}`, "--ehlo", "mta.remote.test",
      "--from", "bob@remote.test", "--to", "team@example.test", "--header", "Subject: al alias",
    ]);
    expect(stdout).toMatch(/<- {2}250 2\.6\.0 Message accepted, queued as/);
    expect((await storedMessage(queuedId(stdout)!)).subject).toBe("al alias");
  });

  it("advertises the extensions of the issue", async () => {
    const wire = await SmtpWire.open(ports.mx);
    await wire.reply();
    const ehlo = await wire.command("EHLO client.test");
    for (const ext of ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "STARTTLS", "SIZE 200000"]) {
      expect(ehlo).toContain(`250-${ext}`.replace("250-SIZE", "250 SIZE"));
    }
    expect(ehlo).not.toContain("AUTH");
    wire.close();
  });

  describe("open-relay battery: every trick is refused and nothing is stored", () => {
    it.each([
      ["plain relaying", "victim@elsewhere.test", "554 5.7.1"],
      ["the percent hack", "victim%elsewhere.test@example.test", "554 5.7.1"],
      ["a bang path", "elsewhere.test!victim@example.test", "554 5.7.1"],
      ["a source route", "@example.test:victim@elsewhere.test", "554 5.7.1"],
      ["a quoted local part with a percent", '"victim%elsewhere.test"@example.test', "554 5.7.1"],
      ["an IP-literal domain", "victim@[127.0.0.1]", "554 5.7.1"],
      ["an unknown local user", "nobody@example.test", "550 5.1.1"],
    ])("refuses %s", async (_name, rcpt, code) => {
      const before = await messageCount();
      const wire = await SmtpWire.open(ports.mx);
      await wire.reply();
      await wire.command("EHLO relay-tester.test");
      expect(await wire.command("MAIL FROM:<spammer@remote.test>")).toMatch(/^250/);
      expect(await wire.command(`RCPT TO:<${rcpt}>`)).toMatch(new RegExp(`^${code} `));
      expect(await wire.command("DATA")).toMatch(/^5\d\d /);
      wire.close();
      expect(await messageCount()).toBe(before);
    });

    it("refuses a quoted local part hiding an @ by policy: valid syntax, a relay trick", async () => {
      const wire = await SmtpWire.open(ports.mx);
      await wire.reply();
      await wire.command("EHLO relay-tester.test");
      await wire.command("MAIL FROM:<spammer@remote.test>");
      expect(await wire.command('RCPT TO:<"victim@elsewhere.test"@example.test>')).toMatch(/^554 5\.7\.1 .*refused by policy$/);
      wire.close();
    });
  });

  describe("SMTP smuggling: only <CR><LF>.<CR><LF> ends DATA, bare line endings are refused", () => {
    const smuggled = "MAIL FROM:<admin@example.test>\r\nRCPT TO:<ana@example.test>\r\nDATA\r\nFrom: admin@example.test\r\nSubject: smuggled\r\n\r\nowned\r\n";
    it.each([
      ["<LF>.<LF>", "\n.\n"],
      ["<LF>.<CR><LF>", "\n.\r\n"],
      ["<CR><LF>.<LF>", "\r\n.\n"],
      ["<CR>.<CR>", "\r.\r"],
      ["<CR>.<CR><LF>", "\r.\r\n"],
      ["<CR><LF>.<CR>", "\r\n.\r"],
      ["<LF>..<LF> (dot-stuffed)", "\n..\n"],
    ])("never splits a message at %s", async (_name, marker) => {
      const before = await messageCount();
      const data = `From: bob@remote.test\r\nSubject: first\r\n\r\nhello${marker}${smuggled}.\r\n`;
      const { replies, wire } = await mxSend(["ana@example.test"], data);
      expect(replies.at(-1)).toMatch(/^550 5\.5\.2 Message refused: bare <(LF|CR)> received/);
      // The smuggled commands were message text: no reply to them arrives, the session is usable.
      expect(await wire.command("NOOP")).toMatch(/^250/);
      expect(wire.pending()).toBe("");
      wire.close();
      expect(await messageCount()).toBe(before);
    });

    it("accepts the same text with proper CRLF line endings, as one message", async () => {
      const before = await messageCount();
      const { replies, wire } = await mxSend(["ana@example.test"], "Subject: clean\r\n\r\nhello\r\n..leading dot\r\n.\r\n");
      expect(replies.at(-1)).toMatch(/^250 2\.6\.0/);
      wire.close();
      expect(await messageCount()).toBe(before + 1);
      const m = await storedMessage(queuedId(replies.at(-1)!)!);
      expect(m.raw).toMatch(/\r\n\r\nhello\r\n\.leading dot\r\n$/);
    });
  });

  it("refuses a mail loop (more than 30 Received:) with 554 5.4.6", async () => {
    const loop = "Received: from a.test by b.test; Thu, 26 Nov 2026 10:00:00 +0000\r\n".repeat(31);
    const { replies, wire } = await mxSend(["ana@example.test"], `${loop}Subject: loop\r\n\r\nx\r\n.\r\n`);
    expect(replies.at(-1)).toMatch(/^554 5\.4\.6 /);
    wire.close();
  });

  it("refuses lines longer than 998 characters with 550 5.5.2", async () => {
    const { replies, wire } = await mxSend(["ana@example.test"], `Subject: long\r\n\r\n${"x".repeat(1200)}\r\n.\r\n`);
    expect(replies.at(-1)).toMatch(/^550 5\.5\.2 .*longer than 998/);
    wire.close();
  });

  it("refuses oversize messages with 552 5.3.4, declared or not, and keeps nothing", async () => {
    const before = await messageCount();
    const wire = await SmtpWire.open(ports.mx);
    await wire.reply();
    await wire.command("EHLO big.test");
    expect(await wire.command("MAIL FROM:<bob@remote.test> SIZE=300000")).toMatch(/^552 5\.3\.4 /);
    wire.close();
    const body = ("y".repeat(76) + "\r\n").repeat(3000);
    const sent = await mxSend(["ana@example.test"], `Subject: big\r\n\r\n${body}.\r\n`);
    expect(sent.replies.at(-1)).toMatch(/^552 5\.3\.4 /);
    sent.wire.close();
    expect(await messageCount()).toBe(before);
  });

  it("defers recipients over the limit with 452 4.5.3 and accepts the rest", async () => {
    const wire = await SmtpWire.open(ports.mx);
    await wire.reply();
    await wire.command("EHLO many.test");
    await wire.command("MAIL FROM:<bob@remote.test>");
    const replies = [];
    for (let i = 0; i < 6; i++) replies.push(await wire.command(`RCPT TO:<ana+${i}@example.test>`));
    expect(replies.slice(0, 5).every((r) => r.startsWith("250 "))).toBe(true);
    expect(replies[5]).toMatch(/^452 4\.5\.3 /);
    wire.close();
  });

  it("answers pipelined commands in order and stores the message once", async () => {
    const before = await messageCount();
    const wire = await SmtpWire.open(ports.mx);
    await wire.reply();
    await wire.command("EHLO pipe.test");
    wire.write(
      "MAIL FROM:<bob@remote.test>\r\nRCPT TO:<ana@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\nDATA\r\n" +
        "Subject: piped\r\n\r\nbody\r\n.\r\nRSET\r\nNOOP\r\n",
    );
    const replies = [];
    for (let i = 0; i < 8; i++) replies.push((await wire.reply()).slice(0, 9));
    expect(replies).toEqual(["250 2.1.0", "250 2.1.5", "550 5.1.1", "554 5.7.1", "354 End d", "250 2.6.0", "250 2.0.0", "250 2.0.0"]);
    wire.close();
    expect(await messageCount()).toBe(before + 1);
  });

  it("refuses an HTTP request sent to the SMTP port (cross-protocol abuse) with 421", async () => {
    const wire = await SmtpWire.open(ports.mx);
    await wire.reply();
    expect(await wire.command("POST / HTTP/1.1")).toMatch(/^421 /);
    wire.close();
  });

  it("stores RFC 3461 DSN parameters per message and per recipient (Python smtplib)", async () => {
    const script = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", ${ports.mx})
s.ehlo("py.remote.test")
assert s.has_extn("dsn")
s.mail("bob@remote.test", ["RET=HDRS", "ENVID=py-envid-1"])
code, _ = s.rcpt("ana@example.test", ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;ana@example.test"])
assert code == 250, code
code, msg = s.data(b"Subject: from python\\r\\n\\r\\nhola\\r\\n")
print(msg.decode())
s.quit()
`;
    const { stdout } = await run("python3", ["-c", script]);
    const m = await storedMessage(queuedId(stdout)!);
    expect(m.dsn_ret).toBe("HDRS");
    expect(m.dsn_envid).toBe("py-envid-1");
    const { rows } = await infra.pool.query("SELECT dsn_notify, original_recipient FROM deliveries WHERE message_id = $1", [m.id]);
    expect(rows).toEqual([{ dsn_notify: ["SUCCESS", "FAILURE"], original_recipient: "rfc822;ana@example.test" }]);
  });

  it("answers 451 4.3.0 and keeps nothing when the message cannot be stored", async () => {
    await infra.pool.query(`
      CREATE FUNCTION test_fail_store() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.recipient = 'fail-store@example.test' THEN RAISE EXCEPTION 'disk full (test)'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER test_fail_store BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION test_fail_store();`);
    try {
      const counts = async () =>
        (await infra.pool.query("SELECT (SELECT count(*) FROM messages) m, (SELECT count(*) FROM blobs) b, (SELECT count(*) FROM outbox) o")).rows[0];
      const before = await counts();
      const { replies, wire } = await mxSend(["fail-store@example.test"], "Subject: unlucky\r\n\r\nunique body 8c1d\r\n.\r\n");
      expect(replies.at(-1)).toMatch(/^451 4\.3\.0 /);
      wire.close();
      expect(await counts()).toEqual(before);
    } finally {
      await infra.pool.query("DROP TRIGGER test_fail_store ON deliveries; DROP FUNCTION test_fail_store()");
    }
  });
});

describe("submission listeners", () => {
  const transport = (port: number, secure: boolean, user = "ana@example.test", pass = PASSWORD) =>
    nodemailer.createTransport({
      host: "127.0.0.1",
      port,
      secure,
      requireTLS: !secure,
      auth: { user, pass },
      tls: { rejectUnauthorized: false },
    });

  it("accepts mail to any domain after STARTTLS and AUTH, adding Message-ID and Date (nodemailer)", async () => {
    const info = await transport(ports.submission, false).sendMail({
      envelope: { from: "ana@example.test", to: ["friend@elsewhere.test"] },
      raw: "From: ana@example.test\r\nTo: friend@elsewhere.test\r\nSubject: sin fecha\r\n\r\nhola\r\n",
      dsn: { id: "nm-envid", return: "full", notify: ["failure", "delay"], recipient: "friend@elsewhere.test" },
    });
    const id = queuedId(info.response)!;
    expect(info.response).toMatch(/^250 2\.6\.0 /);
    const m = await storedMessage(id);
    expect(m.account_id).not.toBeNull();
    expect(m.dsn_ret).toBe("FULL");
    expect(m.header_message_id).toMatch(/^<[0-9a-f-]{36}@mx\.correo\.test>$/);
    expect(m.raw).toMatch(/with ESMTPSA \(TLSv1\.[23] /);
    expect(m.raw).toMatch(/\r\nMessage-ID: <[0-9a-f-]{36}@mx\.correo\.test>\r\n/);
    expect(m.raw).toMatch(/\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    const { rows } = await infra.pool.query("SELECT recipient, dsn_notify FROM deliveries WHERE message_id = $1", [id]);
    expect(rows).toEqual([{ recipient: "friend@elsewhere.test", dsn_notify: ["FAILURE", "DELAY"] }]);
  });

  it("accepts over implicit TLS on the submissions port (nodemailer, AUTH LOGIN)", async () => {
    const t = nodemailer.createTransport({
      host: "127.0.0.1", port: ports.smtps, secure: true, authMethod: "LOGIN",
      auth: { user: "ana@example.test", pass: PASSWORD }, tls: { rejectUnauthorized: false },
    });
    const info = await t.sendMail({ from: "ana@example.test", to: "ana@example.test", subject: "465", text: "hola" });
    expect(info.response).toMatch(/^250 2\.6\.0 /);
    const m = await storedMessage(queuedId(info.response)!);
    expect(m.header_message_id).toBe(info.messageId);
  });

  it("works with Python's smtplib: starttls, login, send", async () => {
    const script = `
import smtplib, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP("127.0.0.1", ${ports.submission}); s.starttls(context=ctx); s.login("ana@example.test", "${PASSWORD}")
print(s.sendmail("ana@example.test", ["x@elsewhere.test"], "Subject: py\\r\\n\\r\\nhola\\r\\n"))
code, msg = s.docmd("NOOP"); s.quit(); print(code)
`;
    const { stdout } = await run("python3", ["-c", script]);
    expect(stdout).toContain("{}");
  });

  it("refuses a sender address the account does not own with 553 5.7.1", async () => {
    await expect(
      transport(ports.submission, false).sendMail({ from: "boss@example.test", to: "x@elsewhere.test", text: "hi" }),
    ).rejects.toMatchObject({ responseCode: 553, response: expect.stringMatching(/^553 5\.7\.1 /) });
  });

  it("requires AUTH before MAIL and STARTTLS before AUTH", async () => {
    const wire = await SmtpWire.open(ports.submission);
    await wire.reply();
    await wire.command("EHLO client.test");
    expect(await wire.command("MAIL FROM:<ana@example.test>")).toMatch(/^530 5\.7\.0 /);
    const plain = Buffer.from(`\0ana@example.test\0${PASSWORD}`).toString("base64");
    expect(await wire.command(`AUTH PLAIN ${plain}`)).toMatch(/^538 /);
    wire.close();
  });

  it("discards commands pipelined behind STARTTLS (CVE-2011-0411)", async () => {
    const wire = await SmtpWire.open(ports.submission);
    await wire.reply();
    await wire.command("EHLO client.test");
    const plain = Buffer.from(`\0ana@example.test\0${PASSWORD}`).toString("base64");
    wire.write(`STARTTLS\r\nAUTH PLAIN ${plain}\r\nMAIL FROM:<ana@example.test>\r\n`);
    expect(await wire.reply()).toMatch(/^220 /);
    await wire.startTls();
    // Had the injected commands run, the session would be authenticated with a MAIL open.
    expect(await wire.command("EHLO client.test")).toMatch(/^250-/);
    expect(await wire.command("RCPT TO:<x@elsewhere.test>")).toMatch(/^530 5\.7\.0 /);
    expect(await wire.command(`AUTH PLAIN ${plain}`)).toMatch(/^235 /);
    expect(await wire.command("RCPT TO:<x@elsewhere.test>")).toMatch(/^503 /);
    wire.close();
  });

  describe("AUTH brute force: the attacker's address is throttled, the account is never locked", () => {
    const plainAuth = (pass: string, user = "ana@example.test") => `AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString("base64")}`;
    /** A fresh authenticated-to-be session on SMTPS from `from` (another address of 127/8). */
    const session = async (from: string) => {
      const wire = await SmtpWire.open(ports.smtps, true, from);
      await wire.reply();
      await wire.command("EHLO brute.test");
      return wire;
    };

    it("answers 535 5.7.8, then 421 and closes after three failures in one session", async () => {
      const wire = await session("127.0.0.5");
      expect(await wire.command(plainAuth("guess-1"))).toMatch(/^535 5\.7\.8 /);
      expect(await wire.command(plainAuth("guess-2"))).toMatch(/^535 5\.7\.8 /);
      expect(await wire.command(plainAuth("guess-3"))).toMatch(/^421 4\.7\.0 /);
      expect(await wire.reply()).toBe(""); // closed
    });

    it("lets the right password in from another address after 10 failures from the attacker's, which gets 454 4.7.0", async () => {
      const attacker = "127.0.0.2";
      const elapsed: number[] = [];
      let wire = await session(attacker);
      for (let i = 1; i <= 10; i++) {
        if (wire.closed) wire = await session(attacker);
        const started = performance.now();
        const reply = await wire.command(plainAuth(`guess-${i}`));
        elapsed.push(performance.now() - started);
        // Six failures (AUTH_MAX_FAILURES_PER_IP=6), then the address is refused before the password is read.
        expect(reply, `attempt ${i}`).toMatch(i <= 6 ? /^(535 5\.7\.8|421 4\.7\.0) / : /^454 4\.7\.0 .*from your address/);
        if (reply.startsWith("421")) await wire.reply();
      }
      // The attacker's address stays refused, even with the right password.
      if (wire.closed) wire = await session(attacker);
      expect(await wire.command(plainAuth(PASSWORD))).toMatch(/^454 4\.7\.0 /);
      wire.close();

      // The owner, from another address: in at once.
      const owner = await session("127.0.0.3");
      expect(await owner.command(plainAuth(PASSWORD))).toMatch(/^235 /);
      owner.close();

      // The account's failures were answered later and later (0, 100, 200, 400, 800, 800 ms; lower bounds only, CI is noisy).
      expect(elapsed[2]!).toBeGreaterThanOrEqual(180);
      expect(elapsed[3]!).toBeGreaterThanOrEqual(360);
      expect(elapsed[4]!).toBeGreaterThanOrEqual(720);
      expect(elapsed[5]!).toBeGreaterThanOrEqual(720);
    });

    it("slows a third address's wrong guesses for the same account: the penalty follows the account, not the address", async () => {
      const first = await session("127.0.0.6");
      for (let i = 0; i < 2; i++) expect(await first.command(plainAuth(`guess-${i}`))).toMatch(/^535 /);
      first.close();
      const other = await session("127.0.0.7");
      const started = performance.now();
      expect(await other.command(plainAuth("guess-x"))).toMatch(/^535 5\.7\.8 /);
      expect(performance.now() - started).toBeGreaterThanOrEqual(180); // the account's third failure: 200 ms
      // ...and the right password from there still gets in.
      expect(await other.command(plainAuth(PASSWORD))).toMatch(/^235 /);
      other.close();
    });
  });

  it("defers an account over SMTP_MESSAGES_PER_HOUR with 450 4.7.1", async () => {
    const t = transport(ports.submission, false, "rate@example.test");
    for (let i = 0; i < 3; i++) await t.sendMail({ from: "rate@example.test", to: "x@elsewhere.test", text: `n${i}` });
    await expect(t.sendMail({ from: "rate@example.test", to: "x@elsewhere.test", text: "one too many" })).rejects.toMatchObject({
      response: expect.stringMatching(/^450 4\.7\.1 /),
    });
  });

  it("holds SMTP_MESSAGES_PER_HOUR for sessions of one account submitting at once: the budget is taken at MAIL FROM", async () => {
    const from = "rate-burst@example.test";
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => transport(ports.submission, false, from).sendMail({ from, to: "x@elsewhere.test", text: `burst ${i}` })),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(3);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => String(o.reason.response).slice(0, 9));
    expect(refused).toEqual(["450 4.7.1", "450 4.7.1", "450 4.7.1"]);
  });

  it("gives a message taken at MAIL FROM back to the budget when its transaction ends without an accept", async () => {
    const from = "rate-back@example.test";
    for (let i = 0; i < 3; i++) {
      await expect(transport(ports.submission, false, from).sendMail({ from, to: "x@elsewhere.test", text: "x".repeat(250_000) })).rejects.toMatchObject({
        response: expect.stringMatching(/^552 /),
      });
    }
    for (let i = 0; i < 3; i++) await transport(ports.submission, false, from).sendMail({ from, to: "x@elsewhere.test", text: `n${i}` });
    await expect(transport(ports.submission, false, from).sendMail({ from, to: "x@elsewhere.test", text: "one too many" })).rejects.toMatchObject({
      response: expect.stringMatching(/^450 4\.7\.1 /),
    });
  });

  it("closes a submission client after too many commands before AUTH", async () => {
    const wire = await SmtpWire.open(ports.submission);
    await wire.reply();
    const replies = [];
    for (let i = 0; i < 12 && !wire.closed; i++) replies.push(await wire.command("NOOP"));
    expect(replies.at(-1) === "" ? replies.at(-2) : replies.at(-1)).toMatch(/^421 .*unauthenticated/);
    wire.close();
  });
});

describe("connection limits", () => {
  it("refuses more than SMTP_MAX_CONNECTIONS_PER_IP concurrent connections with 421 4.7.0", async () => {
    const open: SmtpWire[] = [];
    for (let i = 0; i < 8; i++) {
      const w = await SmtpWire.open(ports.mx);
      expect(await w.reply()).toMatch(/^220 /);
      open.push(w);
    }
    const extra = await SmtpWire.open(ports.mx);
    expect(await extra.reply()).toMatch(/^421 4\.7\.0 Too many connections/);
    for (const w of open) w.close();
    // Once they are closed, the count goes down again.
    await eventually(async () => {
      const w = await SmtpWire.open(ports.mx);
      const r = await w.reply();
      w.close();
      return r.startsWith("220 ");
    }, 10_000, "a connection accepted again");
  });

  it("closes an idle client after SMTP_IDLE_TIMEOUT and any session after SMTP_SESSION_TIMEOUT", async () => {
    const idle = await SmtpWire.open(ports.mx);
    await idle.reply();
    expect(await idle.reply(6000)).toMatch(/^421 /);
    const busy = await SmtpWire.open(ports.mx);
    await busy.reply();
    let last = "";
    const started = Date.now();
    while (!last.startsWith("421") && Date.now() - started < 12_000) {
      await new Promise((r) => setTimeout(r, 1000));
      last = await busy.command("NOOP");
    }
    expect(last).toMatch(/^421 4\.4\.2 Session time limit/);
    idle.close();
    busy.close();
  }, 30_000);
});
