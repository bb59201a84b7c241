import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, createApiKey } from "@correo/directory";
import { eventually, isolatedInfra, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";
import { spawnSubmission, submissionPorts } from "./submission-process.js";
import { headerValid, mailboxValid, vectors } from "../../../packages/directory/test/isemail-vectors.js";

/**
 * Addresses at every way in, by one parser (RFC 5321 Mailbox, RFC 5322 display forms
 * over HTTP, RFC 6531 with SMTPUTF8): the submission service from its build, driven
 * over raw sockets and HTTP. Valid addresses are taken exactly as written; invalid
 * ones are refused as syntax (501 / 400), never repaired into another address; valid
 * ones Correo refuses anyway are refused as policy, and the reply says so.
 */
let infra: IsolatedInfra;
let service: RunningProcess;
let token: string;
const ports = submissionPorts();
const PASSWORD = "s3cret-pass-ana";
// 64 + 1 + 189 = 254 octets: the longest mailbox, a 256-octet path with its brackets (RFC 5321 §4.5.3.1.3).
const LONG_DOMAIN = `${"b".repeat(63)}.${"b".repeat(63)}.${"c".repeat(56)}.test`;
const LONGEST = `${"a".repeat(64)}@${LONG_DOMAIN}`;

async function deliveriesOf(messageId: string): Promise<string[]> {
  const { rows } = await infra.pool.query<{ recipient: string }>("SELECT recipient FROM deliveries WHERE message_id = $1 ORDER BY recipient", [messageId]);
  return rows.map((r) => r.recipient);
}

async function envelopeFromOf(messageId: string): Promise<string> {
  const { rows } = await infra.pool.query<{ envelope_from: string }>("SELECT envelope_from FROM messages WHERE id = $1", [messageId]);
  return rows[0]!.envelope_from;
}

const queuedId = (reply: string) => /queued as ([0-9a-f-]{36})/.exec(reply)?.[1];

async function mx(): Promise<SmtpWire> {
  const wire = await SmtpWire.open(ports.mx);
  await wire.reply();
  await wire.command("EHLO mta.remote.test");
  return wire;
}

async function submission(): Promise<SmtpWire> {
  const wire = await SmtpWire.open(ports.smtps, true);
  await wire.reply();
  await wire.command("EHLO client.test");
  expect(await wire.command(`AUTH PLAIN ${Buffer.from(`\0ana@example.test\0${PASSWORD}`).toString("base64")}`)).toMatch(/^235 /);
  return wire;
}

/** A UTF-8 command line (SmtpWire.command writes latin1). */
async function utf8Command(wire: SmtpWire, line: string): Promise<string> {
  wire.write(Buffer.from(`${line}\r\n`, "utf8"));
  return wire.reply();
}

async function send(body: Record<string, unknown>): Promise<{ status: number; body: { errors?: { field: string; message: string }[]; recipients?: { address: string }[]; id?: string } }> {
  const res = await fetch(`http://127.0.0.1:${ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "ana@example.test", text: "x", ...body }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  infra = await isolatedInfra("submission-addresses");
  await addDomain(infra.pool, "example.test");
  await addDomain(infra.pool, LONG_DOMAIN);
  await addAccount(infra.pool, "ana@example.test", PASSWORD);
  await addAccount(infra.pool, "josé@example.test", PASSWORD);
  await addAccount(infra.pool, LONGEST, PASSWORD);
  token = (await createApiKey(infra.pool, "example.test")).token;
  service = await spawnSubmission(infra, ports);
  await waitForHttp(`http://127.0.0.1:${ports.ops}/healthz`, 30_000, service);
  await eventually(async () => service.output().includes("SMTP listeners up"), 30_000, "SMTP listeners up");
});

afterAll(async () => {
  await service?.stop();
  await infra?.cleanup();
});

describe("MX listener: MAIL FROM and RCPT TO", () => {
  it("accepts a 254-octet recipient and stores it exactly as written", async () => {
    expect(LONGEST).toHaveLength(254);
    const wire = await mx();
    expect(await wire.command("MAIL FROM:<bob@remote.test>")).toMatch(/^250 /);
    expect(await wire.command(`RCPT TO:<${LONGEST}>`)).toMatch(/^250 /);
    expect(await wire.command("DATA")).toMatch(/^354 /);
    wire.write("Subject: long\r\n\r\nx\r\n.\r\n");
    const id = queuedId(await wire.reply());
    wire.close();
    expect(await deliveriesOf(id!)).toEqual([LONGEST]);
  });

  it("refuses a 65-octet local part as a syntax error (501 5.1.3), naming the limit", async () => {
    const wire = await mx();
    await wire.command("MAIL FROM:<bob@remote.test>");
    expect(await wire.command(`RCPT TO:<${"a".repeat(65)}@example.test>`)).toMatch(/^501 5\.1\.3 .*local part of 65 octets; the limit is 64/);
    wire.close();
    const again = await mx();
    expect(await again.command(`MAIL FROM:<${"a".repeat(65)}@remote.test>`)).toMatch(/^501 5\.1\.7 .*local part of 65 octets/);
    again.close();
  });

  it.each([
    ["an IPv4 address literal", "bob@[192.0.2.1]"],
    ["an IPv6 address literal", "bob@[IPv6:2001:db8::1]"],
    ["a single-label domain", "test@io"],
    ["a numeric top-level domain", "test@iana.123"],
    ["a quoted local part with a space", '"bob smith"@remote.test'],
  ])("accepts %s in MAIL FROM and keeps it as written", async (_name, sender) => {
    const wire = await mx();
    expect(await wire.command(`MAIL FROM:<${sender}>`)).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<ana@example.test>")).toMatch(/^250 /);
    expect(await wire.command("DATA")).toMatch(/^354 /);
    wire.write("Subject: sender\r\n\r\nx\r\n.\r\n");
    const id = queuedId(await wire.reply());
    wire.close();
    expect(await envelopeFromOf(id!)).toBe(sender);
  });

  it("takes test@io as an address: a relay refusal (policy, 554 5.7.1), not a syntax error", async () => {
    const wire = await mx();
    await wire.command("MAIL FROM:<bob@remote.test>");
    expect(await wire.command("RCPT TO:<test@io>")).toMatch(/^554 5\.7\.1 Relay access denied: io is not hosted here/);
    wire.close();
  });

  it.each([
    ["test . test@example.test", "white space|space"],
    ['test"text"@example.test', "quote inside an unquoted local part"],
    [".ana@example.test", "starts with a dot"],
    ["ana@example.test.", "ends with a dot"],
    ["ana..x@example.test", "two dots in a row"],
    ["ana@exa_mple.test", "letters, digits and hyphens"],
  ])("refuses %s as a syntax error (501 5.1.3) that says why", async (rcpt, why) => {
    const wire = await mx();
    await wire.command("MAIL FROM:<bob@remote.test>");
    expect(await wire.command(`RCPT TO:<${rcpt}>`)).toMatch(new RegExp(`^501 5\\.1\\.3 .*syntax error in the recipient address: it .*(${why})`));
    wire.close();
  });

  it.each([
    ["an address literal", "ana@[127.0.0.1]", "names an IP-literal domain"],
    ["a quoted local part hiding an @", '"victim@elsewhere.test"@example.test', "has a quoted local part"],
    ["a quoted local part with a space", '"ana x"@example.test', "has a quoted local part"],
  ])("refuses %s as a recipient by policy (554 5.7.1), saying so", async (_name, rcpt, why) => {
    const wire = await mx();
    await wire.command("MAIL FROM:<bob@remote.test>");
    expect(await wire.command(`RCPT TO:<${rcpt}>`)).toMatch(new RegExp(`^554 5\\.7\\.1 .*${why}, refused by policy$`));
    wire.close();
  });

  it("takes a UTF-8 address only after MAIL FROM … SMTPUTF8 (RFC 6531), 553 5.6.7 otherwise", async () => {
    const plain = await mx();
    await plain.command("MAIL FROM:<bob@remote.test>");
    expect(await utf8Command(plain, "RCPT TO:<josé@example.test>")).toMatch(/^553 5\.6\.7 /);
    plain.close();
    const eai = await mx();
    expect(await utf8Command(eai, "MAIL FROM:<bob@remote.test> SMTPUTF8")).toMatch(/^250 /);
    expect(await utf8Command(eai, "RCPT TO:<josé@example.test>")).toMatch(/^250 /);
    eai.close();
  });
});

describe("submission listener: MAIL FROM and RCPT TO after AUTH", () => {
  it("sends to single-label and numeric top-level domains, and refuses address literals by policy", async () => {
    const wire = await submission();
    expect(await wire.command("MAIL FROM:<ana@example.test>")).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<test@io>")).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<test@iana.123>")).toMatch(/^250 /);
    expect(await wire.command("RCPT TO:<friend@[192.0.2.1]>")).toMatch(/^554 5\.7\.1 .*refused by policy$/);
    expect(await wire.command(`RCPT TO:<${"a".repeat(65)}@elsewhere.test>`)).toMatch(/^501 5\.1\.3 /);
    wire.close();
  });

  it("refuses a malformed sender as syntax (501 5.1.7), and an address literal the account does not own as policy (553 5.7.1)", async () => {
    const wire = await submission();
    expect(await wire.command("MAIL FROM:<.ana@example.test>")).toMatch(/^501 5\.1\.7 .*starts with a dot/);
    expect(await wire.command("MAIL FROM:<ana@[127.0.0.1]>")).toMatch(/^553 5\.7\.1 .*not owned/);
    wire.close();
  });
});

describe("HTTP API: to, cc, bcc, from", () => {
  it.each([
    ["test . test@vec.test"],
    ['test"text"@vec.test'],
    ['"test@vec.test'],
    ['"test\u0000"@vec.test'],
    ["test\u0000@vec.test"],
    ["\u007f@vec.test"],
    [".test@vec.test"],
    ["test.@vec.test"],
    ["test@iana.org."],
    ["test@(comment)vec.test"],
    [`${"a".repeat(65)}@vec.test`],
  ])("refuses %j with 400 naming the field, never sending it to another address", async (address) => {
    for (const field of ["to", "cc", "bcc"]) {
      const r = await send({ to: "ana@example.test", [field]: field === "to" ? ["ana@example.test", address] : address });
      expect(r.status, field).toBe(400);
      const at = field === "to" ? "to[1]" : field;
      expect(r.body.errors).toEqual([{ field: at, message: expect.stringMatching(/is not one e-mail address: it /) }]);
    }
  });

  it.each([".ana@example.test", "ana@example.test.", "ana . x@example.test", '"ana@example.test'])("refuses the sender %j with 400 naming from", async (from) => {
    const r = await send({ from, to: "ana@example.test" });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: "from", message: expect.stringMatching(/is not one e-mail address: it /) }]);
  });

  it.each([
    ["test@io", "test@io"],
    ["Ana <test@iana.123>", "test@iana.123"],
    ['"Pérez, Ana" <test@io>', "test@io"],
    ["(work) test@iana.123", "test@iana.123"],
  ])("accepts %j with 202, the recipient exactly %j", async (to, address) => {
    const r = await send({ to });
    expect(r.status).toBe(202);
    expect(r.body.recipients?.map((x) => x.address)).toEqual([address]);
  });

  it("accepts 254-octet and UTF-8 addresses beside them, each exactly as written", async () => {
    const r = await send({ to: [LONGEST, "josé@example.test", "Ana Pérez <ana@example.test>"], cc: "test@io" });
    expect(r.status).toBe(202);
    expect(r.body.recipients?.map((x) => x.address).sort()).toEqual([LONGEST, "ana@example.test", "josé@example.test", "test@io"].sort());
  });

  it("refuses a quoted local part or an address literal as policy, not syntax", async () => {
    const r = await send({ to: ['"a b"@vec.test', "x@[192.0.2.1]"] });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      { field: "to[0]", message: expect.stringMatching(/is refused by policy: it has a quoted local part/) },
      { field: "to[1]", message: expect.stringMatching(/is refused by policy: it names an address literal/) },
    ]);
  });

  it("reads the raw route's bare envelope addresses with the same parser", async () => {
    const raw = (to: string) =>
      fetch(`http://127.0.0.1:${ports.http}/v1/messages/raw`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ from: "ana@example.test", to, message: "From: ana@example.test\r\nSubject: raw\r\n\r\nx\r\n" }),
      });
    expect((await raw("test . test@vec.test")).status).toBe(400);
    expect((await raw("test@io")).status).toBe(202);
  });
});

describe("the isemail vectors at every way in", () => {
  // A command line or a JSON header field cannot carry CR or LF: those vectors end at the transport.
  // Nor can a lone UTF-16 surrogate be sent as UTF-8 at all.
  const onOneLine = vectors.filter(([a]) => !/[\r\n]/.test(a) && Buffer.from(a, "utf8").toString("utf8") === a);
  // A malformed address that spells a route is refused as the relay trick it is (see precheckRecipient).
  const spellsRoute = (a: string) => a.startsWith("@") || (!a.startsWith('"') && a.indexOf("@") !== a.lastIndexOf("@"));
  const quotedOrLiteral = (a: string) => /^\s*(\([^)]*\)\s*)*"/.test(a) || a.includes("@[");

  it("as RCPT TO at the MX: every valid one past the syntax check, every invalid one 501 (never 250)", async () => {
    const wire = await mx();
    expect(await wire.command("MAIL FROM:<bob@remote.test> SMTPUTF8")).toMatch(/^250 /);
    const wrong: string[] = [];
    for (const [address, category] of onOneLine) {
      const reply = await utf8Command(wire, `RCPT TO:<${address}>`);
      const ok = mailboxValid(category)
        ? !reply.startsWith("501") && /^5\d\d /.test(reply)
        : reply.startsWith(spellsRoute(address) ? "554 5.7.1 " : "501 ");
      if (!ok) wrong.push(`${JSON.stringify(address)} (${category}): ${reply}`);
    }
    wire.close();
    expect(wrong).toEqual([]);
  });

  it("as MAIL FROM at the MX: every valid one 250, every invalid one 501", async () => {
    const wire = await mx();
    const wrong: string[] = [];
    // "" is the null sender <> there, and valid.
    for (const [address, category] of onOneLine.filter(([a]) => a !== "")) {
      const reply = await utf8Command(wire, `MAIL FROM:<${address}> SMTPUTF8`);
      if (reply.startsWith("250")) await wire.command("RSET");
      if (!reply.startsWith(mailboxValid(category) ? "250 " : "501 ")) wrong.push(`${JSON.stringify(address)} (${category}): ${reply}`);
    }
    wire.close();
    expect(wrong).toEqual([]);
  });

  it("as HTTP to: 202 exactly as written for the valid ones Correo routes, 400 for the rest, saying syntax or policy", async () => {
    const wrong: string[] = [];
    for (const [address, category] of onOneLine) {
      const r = await send({ to: address });
      const routable = headerValid(category) && !quotedOrLiteral(address);
      const expected = routable ? 202 : 400;
      const message = r.body.errors?.[0]?.message ?? "";
      const said = !headerValid(category) ? /is not one e-mail address: it / : routable ? /^$/ : /is refused by policy: it /;
      const recipient = r.body.recipients?.[0]?.address;
      if (r.status !== expected || !said.test(message) || (routable && !address.includes(recipient ?? "\u0000"))) {
        wrong.push(`${JSON.stringify(address)} (${category}): ${r.status} ${message} ${recipient ?? ""}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
