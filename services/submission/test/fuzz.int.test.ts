import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { fuzzRun } from "@correo/testkit";
import { addAccount, addDomain, createAdminKey, createApiKey } from "@correo/directory";
import { eventually, isolatedInfra, rawHttp, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";
import { spawnSubmission, submissionPorts } from "./submission-process.js";

/**
 * Fuzzing the listeners of the submission service (SMTP MX, SMTP submission over
 * implicit TLS, the HTTP submission API), the service started from its build as
 * `pnpm start` runs it, on the real PostgreSQL, RabbitMQ and Redis. Sessions of
 * mutated commands (fast-check, fixed seeds, a bounded number of runs: deterministic,
 * a few seconds each). Properties: the service never crashes; every command line gets
 * a well-formed reply (3-digit code, the same on every line, and an RFC 3463 enhanced
 * status on 2xx/4xx/5xx replies but the greeting and EHLO/HELO, as RFC 2034 §3 asks);
 * the connection closes only after 221 or 421; HTTP answers a bad request with a
 * problem+json 4xx, never a 5xx; a well-formed session works afterwards.
 */
const PASSWORD = "fuzz-password-1";
const DOMAIN = "fuzz.test";
const USER = `ana@${DOMAIN}`;

let infra: IsolatedInfra;
let service: RunningProcess;
let apiKey: string;
let adminKey: string;
const ports = submissionPorts();

beforeAll(async () => {
  infra = await isolatedInfra("fuzz-submission");
  await addDomain(infra.pool, DOMAIN);
  await addAccount(infra.pool, USER, PASSWORD);
  apiKey = (await createApiKey(infra.pool, DOMAIN, "fuzz")).token;
  adminKey = (await createAdminKey(infra.pool, "fuzz")).token;
  service = await spawnSubmission(infra, ports, {
    // Fuzzed logins fail by the hundred from one address: no throttling or delays here (smtp.int.test.ts covers them).
    AUTH_MAX_FAILURES_PER_IP: "1000000",
    AUTH_PENALTY_BASE: "0ms",
    SMTP_MESSAGES_PER_HOUR: "1000000",
    MAX_MESSAGE_SIZE: "100000",
  });
  await waitForHttp(`http://127.0.0.1:${ports.ops}/healthz`, 30_000, service);
  await eventually(async () => service.output().includes("SMTP listeners up"), 30_000, "SMTP listeners up");
});

afterAll(async () => {
  await service?.stop();
  await infra?.cleanup();
});

/** The service is still the one started: not crashed, not restarted. */
function expectAlive(): void {
  expect(service.child.exitCode ?? service.child.signalCode, service.output().slice(-2000)).toBeNull();
}

// --- SMTP ----------------------------------------------------------------------------------

/** Any octet but CR and LF (the framing is what the property checks against), as a latin1 character. */
const octet = fc.integer({ min: 0, max: 255 }).filter((c) => c !== 10 && c !== 13).map((c) => String.fromCharCode(c));
const noise = fc.string({ unit: octet, maxLength: 40 });
const address = fc.oneof(
  fc.constantFrom(USER, "ANA@FUZZ.TEST", "nobody@fuzz.test", "x@elsewhere.test", "postmaster", "Postmaster@fuzz.test", "", "a@[127.0.0.1]", '"a b"@fuzz.test', "a@b@c", "@fuzz.test:a@b.test", "ana+tag@fuzz.test", "a%b@fuzz.test", "ñ@fuzz.test", "a@xn--", `${"l".repeat(65)}@fuzz.test`),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~"\\ -]{0,20}$/), fc.stringMatching(/^[A-Za-z0-9.[\]-]{0,20}$/)).map(([l, d]) => `${l}@${d}`),
  noise,
);
const mailParam = fc.constantFrom("SIZE=100", "SIZE=99999999999", "SIZE=x", "BODY=8BITMIME", "BODY=BINARYMIME", "BODY=7BIT", "SMTPUTF8", "RET=HDRS", "RET=FULL", "RET=", "ENVID=abc", "ENVID=a+2Bb", "AUTH=<>", "X=Y", "=", "NOTIFY=NEVER", "NOTIFY=SUCCESS,FAILURE", "NOTIFY=BOGUS", "ORCPT=rfc822;a@b.test", "ORCPT=x");
const path = fc.tuple(fc.constantFrom("<", "", "<<", " <"), address, fc.constantFrom(">", "", ">>", "> ")).map(([a, b, c]) => `${a}${b}${c}`);
const plain = (s: string) => Buffer.from(s, "latin1").toString("base64");
const smtpCommand = (authenticating: boolean) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom("EHLO", "HELO", "ehlo", "LHLO"), fc.oneof(fc.constantFrom("client.test", "[127.0.0.1]", "[IPv6:::1]", ""), noise)).map((p) => p.join(" ").trimEnd()) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom("MAIL FROM:", "mail from:", "MAIL FROM: ", "MAIL FROM"), path, fc.array(mailParam, { maxLength: 3 })).map(([c, p, a]) => [c + p, ...a].join(" ")) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom("RCPT TO:", "rcpt to:", "RCPT TO: ", "RCPT"), path, fc.array(mailParam, { maxLength: 2 })).map(([c, p, a]) => [c + p, ...a].join(" ")) },
    { weight: 3, arbitrary: fc.constantFrom("DATA", "RSET", "NOOP", "NOOP x", "HELP", "VRFY ana", "EXPN list", "QUIT", "BDAT 10 LAST", "TURN", "ETRN fuzz.test", "DATA x", "", " ", "XCLIENT ADDR=1.2.3.4", "XFORWARD NAME=x") },
    ...(authenticating
      ? [
          { weight: 3, arbitrary: fc.constant(`AUTH PLAIN ${plain(`\0${USER}\0${PASSWORD}`)}`) },
          fc.oneof(noise, fc.constant(`${USER}\0${USER}\0${PASSWORD}`), fc.constant(`other@fuzz.test\0${USER}\0${PASSWORD}`)).map((s) => `AUTH PLAIN ${plain(s)}`),
          fc.constantFrom("AUTH PLAIN", "AUTH LOGIN", `AUTH LOGIN ${plain(USER)}`, "AUTH CRAM-MD5", "AUTH XOAUTH2 abc", "AUTH", "AUTH PLAIN =", "AUTH PLAIN !!!"),
        ]
      : []),
    fc.tuple(fc.stringMatching(/^[A-Za-z]{1,8}$/), noise).map((p) => p.join(" ")),
    fc.string({ unit: octet, minLength: 500, maxLength: 3000 }),
    noise,
  ).filter((l) => !/^\s*STARTTLS/i.test(l));
const bodyLine = fc.oneof(
  fc.constantFrom("Subject: fuzz", "From: a@b.test", "", ".", "..", ".x", ". ", "..x", "MAIL FROM:<x@y>", "Content-Type: multipart/mixed; boundary=x", "--x", "Received: from x"),
  fc.string({ unit: octet, maxLength: 80 }),
  fc.string({ unit: octet, minLength: 990, maxLength: 1100 }),
);

const REPLY = /^(\d{3})(?:[ -]|$)/;

/** Checks one reply: one code on every line, the last "ddd " or "ddd", and an enhanced status where RFC 2034 wants one. */
function expectWellFormed(reply: string, line: string, enhanced: boolean): string {
  expect(reply, `reply to ${JSON.stringify(line)}`).not.toBe("");
  const lines = reply.split("\r\n");
  const code = REPLY.exec(lines[0]!)?.[1];
  expect(code ?? "", `reply to ${JSON.stringify(line)}: ${JSON.stringify(reply)}`).toMatch(/^[2-5]\d\d$/);
  lines.slice(0, -1).forEach((l) => expect(l.startsWith(`${code}-`), JSON.stringify(reply)).toBe(true));
  expect(lines.at(-1)!, JSON.stringify(reply)).toMatch(new RegExp(`^${code}( |$)`));
  if (enhanced && /^[245]/.test(code!)) {
    expect(lines.at(-1)!, `enhanced status in the reply to ${JSON.stringify(line)}`).toMatch(new RegExp(`^${code} ${code![0]}\\.\\d{1,3}\\.\\d{1,3}( |$)`));
  }
  return code!;
}

type Step = { line: string; body: string[]; saslAnswers: string[] };
const step = (authenticating: boolean) =>
  fc.record({ line: smtpCommand(authenticating), body: fc.array(bodyLine, { maxLength: 6 }), saslAnswers: fc.array(fc.oneof(fc.constant("*"), fc.constant(plain(PASSWORD)), fc.constant(plain(USER)), noise), { minLength: 3, maxLength: 3 }) });

async function smtpSession(port: number, tls: boolean, steps: Step[]): Promise<void> {
  const wire = await SmtpWire.open(port, tls);
  expectWellFormed(await wire.reply(), "(greeting)", false);
  for (const s of steps) {
    wire.write(s.line + "\r\n");
    let reply = await wire.reply();
    let code = expectWellFormed(reply, s.line, !/^\s*(EHLO|HELO|LHLO)\b/i.test(s.line));
    // AUTH challenges (334): answer each, up to three.
    for (let i = 0; code === "334" && i < 3; i++) {
      wire.write(s.saslAnswers[i] + "\r\n");
      reply = await wire.reply();
      code = expectWellFormed(reply, `${s.line} / ${s.saslAnswers[i]}`, true);
    }
    if (code === "354") {
      // The message: the fuzzed lines, then the end of data (RFC 5321 §4.1.1.4).
      wire.write(s.body.map((l) => l + "\r\n").join("") + ".\r\n");
      code = expectWellFormed(await wire.reply(), "(end of data)", true);
    }
    if (code === "221" || code === "421") {
      expect(await wire.reply(), "closed after 221/421").toBe("");
      return;
    }
    expect(wire.closed, `closed without 221 or 421 after ${JSON.stringify(s.line)}`).toBe(false);
  }
  wire.close();
}

/** A clean transaction, then its 250. */
async function smtpWorks(port: number, tls: boolean, auth: boolean, rcpt: string): Promise<void> {
  const wire = await SmtpWire.open(port, tls);
  expect(await wire.reply()).toMatch(/^220 /);
  expect(await wire.command("EHLO clean.test")).toMatch(/^250/);
  if (auth) expect(await wire.command(`AUTH PLAIN ${plain(`\0${USER}\0${PASSWORD}`)}`)).toMatch(/^235 /);
  expect(await wire.command(`MAIL FROM:<${auth ? USER : "bob@remote.test"}>`)).toMatch(/^250 /);
  expect(await wire.command(`RCPT TO:<${rcpt}>`)).toMatch(/^250 /);
  expect(await wire.command("DATA")).toMatch(/^354 /);
  wire.write("Subject: after the fuzzing\r\n\r\nstill here\r\n.\r\n");
  expect(await wire.reply()).toMatch(/^250 2\.6\.0 /);
  expect(await wire.command("QUIT")).toMatch(/^221 /);
  wire.close();
}

/** A plausible start (EHLO, AUTH, a transaction begun), so that the fuzzed steps after it reach every state. */
const opening = (authenticating: boolean) =>
  fc
    .tuple(
      fc.constantFrom(["EHLO client.test"], ["EHLO client.test"], ["HELO client.test"], []),
      fc.constantFrom(...(authenticating ? [[`AUTH PLAIN ${plain(`\0${USER}\0${PASSWORD}`)}`], [`AUTH PLAIN ${plain(`\0${USER}\0${PASSWORD}`)}`], []] : [[]])),
      fc.constantFrom([], [`MAIL FROM:<${authenticating ? USER : "bob@remote.test"}>`], [`MAIL FROM:<${authenticating ? USER : "bob@remote.test"}>`, `RCPT TO:<${authenticating ? "x@elsewhere.test" : USER}>`]),
    )
    .map((parts) => parts.flat().map((line): Step => ({ line, body: [], saslAnswers: ["*", "*", "*"] })));
const session = (authenticating: boolean) =>
  fc.tuple(opening(authenticating), fc.array(step(authenticating), { minLength: 1, maxLength: 10 })).map(([a, b]) => [...a, ...b]);

describe("SMTP listeners under fuzzed sessions", () => {
  it("MX: answers every line with a well-formed reply, closes only after 221/421, and takes a clean message after", async () => {
    await fc.assert(
      fc.asyncProperty(session(false), async (steps) => smtpSession(ports.mx, false, steps)),
      fuzzRun(1204, 100),
    );
    expectAlive();
    await smtpWorks(ports.mx, false, false, USER);
  });

  it("submission (implicit TLS, AUTH): answers every line with a well-formed reply, closes only after 221/421, and takes a clean message after", async () => {
    await fc.assert(
      fc.asyncProperty(session(true), async (steps) => smtpSession(ports.smtps, true, steps)),
      fuzzRun(1205, 25),
    );
    expectAlive();
    await smtpWorks(ports.smtps, true, true, "x@elsewhere.test");
  });
});

// --- HTTP submission API ---------------------------------------------------------------------

const headerText = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom("a\r\nBcc: x@y.test", "=?utf-8?B?w6k=?=", "", "\u0000", "é".repeat(400)));
const addresses = fc.oneof(address, fc.array(address, { maxLength: 3 }), fc.constantFrom(null, 1, {}, []));
const messageFields = {
    from: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(USER, `Ana <${USER}>`, `"Ana, A." <${USER}>`) }, address, fc.constant(7)),
    to: fc.oneof({ weight: 4, arbitrary: fc.constant(USER) }, addresses),
    cc: addresses,
    bcc: addresses,
    reply_to: address,
    subject: headerText,
    text: fc.oneof(fc.string({ maxLength: 200 }), fc.constant(".\r\n.x\r\n")),
    html: fc.string({ maxLength: 100 }),
    headers: fc.dictionary(fc.oneof(fc.stringMatching(/^[!-9;-~]{1,20}$/), fc.string({ maxLength: 10 }), fc.constantFrom("From", "To", "Bcc", "Message-ID", "Content-Type", "MIME-Version")), headerText, { maxKeys: 3 }),
    attachments: fc.array(
      fc.record(
        {
          filename: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("../../etc/passwd", "a\r\nb", "\"q\".txt")),
          content: fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }), fc.constantFrom("====", "A", "QQ=\n=")),
          content_type: fc.oneof(fc.constantFrom("text/plain", "application/pdf", "multipart/mixed", "x", "text/plain; charset=\"", ""), headerText),
          content_id: fc.oneof(fc.constantFrom("<a@b>", "a@b", "<>"), headerText),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    tags: fc.array(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/), fc.string({ maxLength: 70 })), { maxLength: 3 }),
    metadata: fc.dictionary(fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), fc.string({ maxLength: 5 })), fc.oneof(fc.string({ maxLength: 20 }), fc.constant(1) as fc.Arbitrary<unknown> as fc.Arbitrary<string>), { maxKeys: 2 }),
    colour: fc.constant("unknown field"),
};
/** A valid message, then up to three of its fields set to fuzzed values or removed. */
const mutated = <T extends Record<string, fc.Arbitrary<unknown>>>(base: Record<string, unknown>, fields: T) =>
  fc
    .array(
      fc.oneof(
        ...Object.entries(fields).map(([k, v]) => v.map((value) => [k, value] as const)),
        fc.constantFrom(...Object.keys(base)).map((k) => [k, undefined] as const),
      ),
      { maxLength: 3 },
    )
    .map((changes) => {
      const body: Record<string, unknown> = { ...base };
      for (const [k, v] of changes) {
        if (v === undefined) delete body[k];
        else body[k] = v;
      }
      return body;
    });
const messageBody = mutated({ from: USER, to: USER, subject: "fuzz", text: "hola" }, messageFields);
const rawBody = mutated({ from: USER, to: USER, message: `From: ${USER}\r\nTo: ${USER}\r\nSubject: raw\r\n\r\nhola\r\n` }, {
    from: fc.oneof({ weight: 3, arbitrary: fc.constant(USER) }, address),
    to: addresses,
    message: fc.oneof(fc.constant(`From: ${USER}\r\nTo: ${USER}\r\nSubject: raw\r\n\r\nhola\r\n`), fc.string({ maxLength: 200 }), fc.constant("no header separator"), fc.constant("Subject: \u0000\r\n\r\nx")),
    message_base64: fc.oneof(fc.base64String({ maxLength: 60 }), fc.string({ maxLength: 20 })),
    tags: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
});
const id = fc.oneof(fc.uuid().map(String), fc.constantFrom("", "x", "%FF", "%00", "..", "00000000-0000-0000-0000-00000000000g", "1"), fc.string({ maxLength: 20 }).map(encodeURIComponent));
const httpRequest = fc.oneof(
  { weight: 5, arbitrary: fc.record({ method: fc.constant("POST"), path: fc.constant("/v1/messages"), body: fc.oneof({ weight: 6, arbitrary: messageBody.map((b) => JSON.stringify(b)) }, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), noise, fc.constantFrom("{", "", "null", "[]", '{"from":')) }) },
  { weight: 2, arbitrary: fc.record({ method: fc.constant("POST"), path: fc.constant("/v1/messages/raw"), body: fc.oneof(rawBody.map((b) => JSON.stringify(b)), noise) }) },
  fc.record({ method: fc.constantFrom("GET", "DELETE", "PATCH", "HEAD"), path: id.map((i) => `/v1/messages/${i}`), body: fc.constant(undefined) }),
  fc.record({
    method: fc.constant("GET"),
    path: fc.dictionary(fc.constantFrom("limit", "cursor", "tag", "status", "since", "x"), fc.oneof(id, fc.constantFrom("0", "-1", "1e9", "true")), { maxKeys: 3 }).map((q) => `/v1/messages?${Object.entries(q).map(([k, v]) => `${k}=${v}`).join("&")}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constantFrom("GET", "POST", "DELETE", "PUT"),
    path: fc.tuple(fc.constantFrom("accounts", "aliases", "api-keys", "domains", "domain-aliases", "queue", "transports", "nope"), fc.option(id, { nil: undefined })).map(([r, i]) => `/v1/admin/${r}${i === undefined ? "" : `/${i}`}`),
    body: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))),
  }),
  fc.record({ method: fc.constantFrom("GET", "POST", "OPTIONS"), path: fc.array(id, { maxLength: 3 }).map((s) => `/${s.join("/")}`), body: fc.constant(undefined) }),
);
const authHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant("key") },
  fc.constantFrom(undefined, "Bearer", "Bearer x", "Bearer correo_x_y", "Basic YTpi", "bearer KEY", "Bearer correoadmin_x_y", "admin-get"),
);
const contentType = fc.constantFrom(undefined, "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin9", "application/problem+json");

describe("HTTP submission API under fuzzed requests", () => {
  it("answers every bad request with a problem+json 4xx, never a 5xx, and accepts a clean message after", async () => {
    await fc.assert(
      fc.asyncProperty(httpRequest, authHeader, contentType, fc.option(fc.stringMatching(/^[\x21-\x7e]{0,300}$/), { nil: undefined }), async (r, auth, type, idempotencyKey) => {
        const headers: Record<string, string> = {};
        // The valid admin key only reads: a fuzzed DELETE of the domain would end the run's premise, not find a bug.
        const admin = auth === "admin-get" && r.method === "GET" && r.path.startsWith("/v1/admin/");
        if (auth === "key") headers.authorization = `Bearer ${apiKey}`;
        else if (admin) headers.authorization = `Bearer ${adminKey}`;
        else if (auth === "bearer KEY") headers.authorization = `bearer ${apiKey}`;
        else if (auth !== undefined && auth !== "admin-get") headers.authorization = auth;
        if (type !== undefined && r.body !== undefined) headers["content-type"] = type;
        if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
        const res = await rawHttp(ports.http, { method: r.method, path: r.path, headers, body: r.body === undefined ? undefined : Buffer.from(r.body, "latin1") });
        const what = `${r.method} ${r.path} ${r.body ?? ""} → ${res.status} ${res.body.toString().slice(0, 400)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400 && r.method !== "HEAD") {
          expect(res.headers["content-type"], what).toMatch(/^application\/problem\+json/);
          const problem = JSON.parse(res.body.toString());
          expect(problem.status, what).toBe(res.status);
        }
      }),
      fuzzRun(1206, 300),
    );
    expectAlive();
    const ok = await rawHttp(ports.http, {
      method: "POST",
      path: "/v1/messages",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ from: USER, to: USER, subject: "after the fuzzing", text: "still here" }),
    });
    expect(ok.status, ok.body.toString()).toBe(202);
  });
});

describe("what the fuzzers found, kept as cases", () => {
  const post = (path: string, body: unknown) =>
    rawHttp(ports.http, { method: "POST", path, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("refuses a NUL in a composed header or in metadata with 400 naming the field, not 503 for ever", async () => {
    for (const [body, field] of [
      [{ from: USER, to: USER, subject: "a\u0000b", text: "x" }, "body.subject"],
      [{ from: USER, to: USER, headers: { "X-Note": "\u0000" }, text: "x" }, "body.headers.X-Note"],
      [{ from: `A\u0000 <${USER}>`, to: USER, text: "x" }, "from"],
      [{ from: USER, to: USER, text: "x", metadata: { k: "\u0000" } }, "body.metadata.k"],
    ] as const) {
      const res = await post("/v1/messages", body);
      expect(res.status, res.body.toString()).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body.toString()).errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it("refuses a raw message with a NUL in its header with 400, not 503 for ever", async () => {
    const res = await post("/v1/messages/raw", { from: USER, to: USER, message: `From: ${USER}\r\nSubject: a\u0000b\r\n\r\nbody\r\n` });
    expect(res.status, res.body.toString()).toBe(400);
    expect(res.body.toString()).toMatch(/NUL/);
  });

  it("answers a path with non-UTF-8 percent-encoding (%FF) with a 400 problem", async () => {
    const res = await rawHttp(ports.http, { method: "GET", path: "/v1/messages/%FF", headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });
});
