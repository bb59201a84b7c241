import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { fuzzRun } from "@correo/testkit";
import { Redis } from "ioredis";
import { addAccount, addDomain } from "@correo/directory";
import { LoginThrottle } from "@correo/login-throttle";
import { MailStore } from "@correo/mailstore";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, rawHttp, type IsolatedInfra } from "@correo/testkit";
import { LineWire } from "./line-wire.js";
import { startRetrievalListeners, type RetrievalListeners } from "./listeners.js";

/**
 * Fuzzing the three listeners of retrieval (IMAP, POP3, the HTTP mailbox API), real
 * ones on the real PostgreSQL and Redis, with sessions of mutated commands
 * (fast-check, fixed seeds, a bounded number of runs: deterministic and a few seconds
 * each). Properties: every command line gets a well-formed answer (IMAP tagged
 * OK/NO/BAD or untagged BYE; POP3 +OK/-ERR; HTTP a problem+json 4xx, never 5xx, for a
 * bad request), nothing hangs, and a well-formed session works afterwards.
 */
const PASSWORD = "fuzz-password-1";
const DOMAIN = "fuzz.test";
const USER = `ana@${DOMAIN}`;
const MESSAGE = (n: number) =>
  Buffer.from(
    `From: Bea <bea@example.org>\r\nTo: ${USER}\r\nSubject: fuzz ${n}\r\nMessage-ID: <f${n}@example.org>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhola ${n}\r\n--b\r\n` +
      `Content-Type: application/octet-stream; name="a.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n`,
  );

let infra: IsolatedInfra;
let redis: Redis;
let mail: MailStore;
let listeners: RetrievalListeners;
let accountId: number;
const errors: string[] = [];

beforeAll(async () => {
  infra = await isolatedInfra("fuzz-retrieval");
  await addDomain(infra.pool, DOMAIN);
  accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  redis = new Redis(infra.redisUrl);
  const log = createLogger("retrieval-fuzz", "silent");
  // Command failures ("IMAP command failed", "POP3 command failed") are bugs the fuzzer should see.
  const watched = Object.assign(Object.create(log), {
    child: () => watched,
    error: (obj: unknown, msg?: string) => void errors.push(`${msg ?? ""} ${JSON.stringify(obj)}`),
  }) as typeof log;
  // Fuzzed logins fail by the hundred from one address: no throttling or delays here (login-throttle.int.test.ts covers them).
  const logins = new LoginThrottle(redis, infra.prefix, { maxFailuresPerAddress: 1_000_000, windowMs: 60_000, penaltyBaseMs: 0, penaltyMaxMs: 0 });
  mail = new MailStore({ pool: infra.pool });
  for (let i = 1; i <= 3; i++) await mail.append(accountId, "INBOX", MESSAGE(i), { flags: [] });
  listeners = await startRetrievalListeners({ infra, redis, mail, logins, log, listenerLog: watched, domain: DOMAIN, imapLimits: { maxLineOctets: 8192, maxLiteralOctets: 64 * 1024 } });
});

afterAll(async () => {
  await listeners?.stop();
  redis?.disconnect();
  await infra?.cleanup();
});

// --- generators shared by the line protocols ---------------------------------------------

/** Any octet but CR and LF (the framing is what the property checks against), as a latin1 character. */
const octet = fc.integer({ min: 0, max: 255 }).filter((c) => c !== 10 && c !== 13).map((c) => String.fromCharCode(c));
const noise = fc.string({ unit: octet, maxLength: 40 });
const atom = fc.stringMatching(/^[A-Za-z0-9.\\*%:,()<>\[\]"{}+-]{1,12}$/);
const number = fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom("-1", "0", "4294967296", "99999999999999999999", "1e3", "0x10"));

/** Sends `line`, then waits for `answered`; "" when the server closed the connection first. */
async function ask(wire: LineWire, line: string, answered: RegExp): Promise<string> {
  wire.write(Buffer.from(line + "\r\n", "latin1"));
  return wire.until(answered, 8000);
}

// --- IMAP --------------------------------------------------------------------------------

const mailbox = fc.oneof(fc.constantFrom("INBOX", "inbox", "Trash", "Sent", '"Drafts"', '""', "Nope", '"a/b"', "&AMk-", "INBOX.x"), atom);
const sequence = fc.oneof(fc.constantFrom("1", "1:*", "*", "2,1", "1:3", "3:1", "0", "4294967295", "1:", ":", "$"), number);
const fetchItem = fc.constantFrom(
  "FLAGS", "UID", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY[]", "BODY.PEEK[HEADER]", "BODY[TEXT]", "BODY[1]", "BODY[2.MIME]",
  "BODY[1.2.3.4]", "BODY[]<0.10>", "BODY[]<5>", "BODY[HEADER.FIELDS (SUBJECT FROM)]", "BODY[HEADER.FIELDS.NOT (X)]", "INTERNALDATE", "ALL", "FAST", "FULL",
  "(FLAGS UID)", "(", ")", "BINARY[1]", "BINARY.SIZE[1]", "MODSEQ", "(CHANGEDSINCE 1)", "BODY[", "BODY[]<-1.2>",
);
const searchKey = fc.constantFrom(
  "ALL", "SEEN", "UNSEEN", "NOT", "OR", "(", ")", "FROM", '"bea"', "SUBJECT", "fuzz", "SINCE", "1-Jan-2024", "BEFORE", "32-Foo-99", "LARGER", "100", "SMALLER",
  "UID", "1:*", "HEADER", "X-Y", "BODY", "TEXT", "KEYWORD", "$x", "CHARSET", "UTF-8", "X-UNKNOWN", "MODSEQ", "2", "*",
);
const flag = fc.constantFrom("\\Seen", "\\Deleted", "\\Flagged", "\\Recent", "$Label", "\\Bogus", "(", ")", "(\\Seen", "\\");
const imapCommand = fc.oneof(
  { weight: 3, arbitrary: fc.constant(`LOGIN ${USER} ${PASSWORD}`) },
  fc.tuple(fc.constantFrom("LOGIN", "login"), fc.oneof(fc.constant(USER), atom, noise), fc.oneof(fc.constant(PASSWORD), atom, noise)).map((p) => p.join(" ")),
  fc.oneof(fc.constant(`${USER}\0${USER}\0${PASSWORD}`), noise).map((s) => `AUTHENTICATE PLAIN ${Buffer.from(s, "latin1").toString("base64")}`),
  fc.constantFrom("AUTHENTICATE PLAIN", "AUTHENTICATE LOGIN", "AUTHENTICATE", "CAPABILITY", "NOOP", "CHECK", "EXPUNGE", "CLOSE", "UNSELECT", "NAMESPACE", "IDLE", "ENABLE CONDSTORE", "ENABLE UTF8=ACCEPT", 'ID ("name" "fuzz")', "ID NIL", "ID (", "LIST \"\" *", "LIST \"\" %", "LSUB \"\" *", 'LIST (SPECIAL-USE) "" *', 'LIST "" * RETURN (STATUS (MESSAGES))'),
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("SELECT", "EXAMINE", "STATUS", "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE"), mailbox, fc.constantFrom("", "(MESSAGES UNSEEN UIDNEXT)", "(SIZE)", "(CONDSTORE)", "(")).map((p) => p.join(" ").trim()) },
  fc.tuple(fc.constant("RENAME"), mailbox, mailbox).map((p) => p.join(" ")),
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("FETCH", "UID FETCH"), sequence, fc.array(fetchItem, { maxLength: 4 })).map(([c, s, items]) => `${c} ${s} ${items.length > 1 ? `(${items.join(" ")})` : items.join("")}`) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom("SEARCH", "UID SEARCH"), fc.array(searchKey, { maxLength: 6 })).map(([c, k]) => `${c} ${k.join(" ")}`) },
  fc.tuple(fc.constantFrom("STORE", "UID STORE"), sequence, fc.constantFrom("+FLAGS", "-FLAGS", "FLAGS", "+FLAGS.SILENT", "X", "(UNCHANGEDSINCE 1) +FLAGS"), fc.array(flag, { maxLength: 3 })).map(([c, s, m, f]) => `${c} ${s} ${m} (${f.join(" ")})`),
  fc.tuple(fc.constantFrom("COPY", "MOVE", "UID COPY", "UID MOVE", "UID EXPUNGE"), sequence, mailbox).map((p) => p.join(" ")),
  fc.tuple(atom, fc.array(fc.oneof(atom, number, noise), { maxLength: 4 })).map(([c, a]) => [c, ...a].join(" ")),
  noise,
);
/** A tag and a command; never a literal at the end of the line (the driver sends none) and never STARTTLS. */
const imapLine = fc
  .tuple(fc.oneof({ weight: 9, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,6}$/) }, { weight: 1, arbitrary: fc.constantFrom("", "a)", "a{", "+") }), imapCommand)
  .map(([tag, cmd]) => `${tag} ${cmd}`)
  .filter((l) => !/\{\d*\+?\}?$/.test(l) && !/STARTTLS/i.test(l) && !/^[*+]/.test(l));

/** A message to APPEND: a sound one, one with octets replaced or cut short, or lines of noise. */
const appendedMessage = fc.oneof(
  fc.constant(MESSAGE(9).toString("latin1")),
  fc
    .tuple(fc.array(fc.tuple(fc.nat(MESSAGE(9).length - 1), octet), { maxLength: 8 }), fc.nat(MESSAGE(9).length))
    .map(([edits, cut]) => {
      const m = MESSAGE(9).toString("latin1").split("");
      for (const [at, c] of edits) m[at] = c;
      return m.join("").slice(0, Math.max(1, cut));
    }),
  fc.array(fc.oneof(noise, fc.constantFrom("Content-Type: multipart/mixed; boundary=x", "--x", "--x--", "Content-Transfer-Encoding: base64", "", "=?utf-8?B?w6k=?=")), { maxLength: 12 }).map((l) => l.join("\r\n")),
);
/** APPEND with a literal (synchronizing, or LITERAL+ as RFC 7888 allows), the one command the driver sends a literal for. */
const imapAppend = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9]{1,6}$/),
    mailbox,
    fc.constantFrom("", "(\\Seen)", "(\\Bogus $x)", '"01-Jan-2024 00:00:00 +0000"', '(\\Seen) "32-Jan-2024 99:00:00 +0000"', "("),
    appendedMessage,
    fc.boolean(),
  )
  .map(([tag, box, extra, message, nonSync]): ImapStep => {
    const literal = Buffer.from(message, "latin1");
    return { line: `${tag} APPEND ${box}${extra ? ` ${extra}` : ""} {${literal.length}${nonSync ? "+" : ""}}`, literal, nonSync };
  });
type ImapStep = string | { line: string; literal: Buffer; nonSync: boolean };
const imapStep: fc.Arbitrary<ImapStep> = fc.oneof({ weight: 8, arbitrary: imapLine }, { weight: 1, arbitrary: imapAppend });

/** Everything up to the completion of the command tagged `tag` (or a BYE, or an untagged BAD for a line without a tag). */
const imapDone = (tag: string) => new RegExp(`(^|\\r\\n)((${tag.replace(/[^A-Za-z0-9]/g, "\\$&")} (OK|NO|BAD))|\\* BYE|\\* BAD)[^\\r\\n]*\\r\\n|(^|\\r\\n)\\+ [^\\r\\n]*\\r\\n$`);

/** Mostly logged in, often with INBOX selected: the fuzzed lines after it reach every state. */
const imapOpening = fc.constantFrom([], [`l LOGIN ${USER} ${PASSWORD}`], [`l LOGIN ${USER} ${PASSWORD}`, "s SELECT INBOX"], [`l LOGIN ${USER} ${PASSWORD}`, "s SELECT INBOX"]);

async function imapSession(steps: ImapStep[]): Promise<void> {
  const wire = await LineWire.open(listeners.imapPort);
  expect(await wire.until(/^\* OK[^\r\n]*\r\n/)).toMatch(/^\* OK /);
  for (const step of steps) {
    const line = typeof step === "string" ? step : step.line;
    const tag = line.split(" ", 1)[0]!;
    let answer: string;
    if (typeof step === "string") answer = await ask(wire, line, imapDone(tag));
    else if (step.nonSync) {
      wire.write(Buffer.concat([Buffer.from(line + "\r\n", "latin1"), step.literal, Buffer.from("\r\n")]));
      answer = await wire.until(imapDone(tag), 8000);
    } else {
      // RFC 3501 §7.5: the literal only after the server's "+"; a tagged answer instead ends the command.
      answer = await ask(wire, line, imapDone(tag));
      if (/(^|\r\n)\+ [^\r\n]*\r\n$/.test(answer)) {
        wire.write(Buffer.concat([step.literal, Buffer.from("\r\n")]));
        answer += await wire.until(imapDone(tag), 8000);
      }
    }
    // A continuation (AUTHENTICATE without initial response, IDLE): answer it, then read on.
    for (let i = 0; answer.match(/(^|\r\n)\+ [^\r\n]*\r\n$/) && i < 3; i++) {
      answer += await ask(wire, /IDLE/i.test(line) ? "DONE" : "*", imapDone(tag));
    }
    if (answer === "") throw new Error(`IMAP closed the connection without BYE after ${JSON.stringify(line)}`);
    const last = answer.trimEnd().split("\r\n").at(-1)!;
    expect(last, `answer to ${JSON.stringify(line)}`).toMatch(new RegExp(`^(${tag.replace(/[^A-Za-z0-9]/g, "\\$&")} (OK|NO|BAD)|\\* (BYE|BAD))( |$)`));
    // Every untagged line is "* ..." and every line ends with CRLF; literals in FETCH data are skipped over.
    expect(answer.endsWith("\r\n")).toBe(true);
    if (/^\* BYE/.test(last) || /LOGOUT/i.test(line)) break;
  }
  wire.close();
}

async function imapWorks(): Promise<void> {
  const wire = await LineWire.open(listeners.imapPort);
  await wire.until(/^\* OK[^\r\n]*\r\n/);
  expect(await ask(wire, `a LOGIN ${USER} ${PASSWORD}`, imapDone("a"))).toMatch(/a OK /);
  expect(await ask(wire, "b SELECT INBOX", imapDone("b"))).toMatch(/b OK /);
  expect(await ask(wire, "c LOGOUT", imapDone("c"))).toMatch(/\* BYE/);
  wire.close();
}

describe("IMAP listener under fuzzed sessions", () => {
  it("answers every line with a tagged OK/NO/BAD or an untagged BAD/BYE, and a clean session works after", async () => {
    await fc.assert(
      fc.asyncProperty(imapOpening, fc.array(imapStep, { minLength: 1, maxLength: 10 }), async (opening, steps) => {
        await imapSession([...opening, ...steps]);
      }),
      fuzzRun(1201, 30),
    );
    await imapWorks();
    expect(errors).toEqual([]);
  });
});

// --- POP3 --------------------------------------------------------------------------------

const popVerb = fc.constantFrom("USER", "PASS", "AUTH", "QUIT", "CAPA", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP", "RSET", "APOP", "STLS", "user", "Retr", "XTND", "LAST");
const popLine = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(`USER ${USER}`, `PASS ${PASSWORD}`) },
  { weight: 6, arbitrary: fc.tuple(popVerb, fc.array(fc.oneof(number, atom, noise), { maxLength: 3 })).map(([v, a]) => [v, ...a].join(" ")) },
  fc.oneof(fc.constant(`\0${USER}\0${PASSWORD}`), fc.constant(`x\0${USER}\0${PASSWORD}`), noise).map((s) => `AUTH PLAIN ${Buffer.from(s, "latin1").toString("base64")}`),
  fc.constantFrom("AUTH PLAIN", "AUTH PLAIN =", "AUTH", "CAPA", "LIST", "UIDL", "TOP 1 0", "TOP 1 99999", "RETR 1", "DELE 1", "RSET", " ", "", "USER", "PASS"),
  fc.string({ unit: octet, minLength: 250, maxLength: 3000 }),
  noise,
).filter((l) => !/^STLS\s*$/i.test(l));

const popStatus = /^(\+OK|-ERR|\+ )[^\r\n]*\r\n/;

/** Whether an +OK to `line` (a command, not a SASL answer) is followed by a multi-line body. */
function popMultiline(line: string): boolean {
  const [verb = "", ...rest] = line.split(" ");
  const args = rest.filter((a) => a !== "");
  const v = verb.toUpperCase();
  return v === "CAPA" || v === "RETR" || v === "TOP" || (["LIST", "UIDL", "AUTH"].includes(v) && args.length === 0);
}

async function popSession(lines: string[]): Promise<void> {
  const wire = await LineWire.open(listeners.pop3Port);
  expect(await wire.until(popStatus)).toMatch(/^\+OK /);
  let sasl = false;
  for (const line of lines) {
    const status = await ask(wire, line, popStatus);
    if (status === "") throw new Error(`POP3 closed the connection without a reply to ${JSON.stringify(line)}`);
    expect(status, `answer to ${JSON.stringify(line)}`).toMatch(/^(\+OK|-ERR)( [^\r\n]*)?\r\n$|^\+ [^\r\n]*\r\n$/);
    const wasSasl = sasl;
    sasl = status.startsWith("+ ");
    if (!wasSasl && status.startsWith("+OK") && popMultiline(line)) {
      // Multi-line: byte-stuffed lines, then "." alone (RFC 1939 §3).
      expect(await wire.until(/(^|\r\n)\.\r\n/, 8000)).not.toBe("");
    }
    if (/^QUIT\b/i.test(line) && !wasSasl) break;
    if (/closing/.test(status)) break;
  }
  wire.close();
}

async function popWorks(): Promise<void> {
  // The fuzzed session's maildrop lock goes when its connection is seen closed.
  await eventually(async () => {
    const wire = await LineWire.open(listeners.pop3Port);
    await wire.until(popStatus);
    await ask(wire, `USER ${USER}`, popStatus);
    const pass = await ask(wire, `PASS ${PASSWORD}`, popStatus);
    const stat = pass.startsWith("+OK") ? await ask(wire, "STAT", popStatus) : "";
    wire.write("QUIT\r\n");
    await wire.until(popStatus).catch(() => "");
    wire.close();
    return /^\+OK \d+ \d+/.test(stat);
  }, 10_000, "a clean POP3 session");
}

describe("POP3 listener under fuzzed sessions", () => {
  it("answers every line with +OK or -ERR (multi-line bodies terminated), and a clean session works after", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom([], [`USER ${USER}`, `PASS ${PASSWORD}`], [`USER ${USER}`, `PASS ${PASSWORD}`]), fc.array(popLine, { minLength: 1, maxLength: 10 }), async (opening, lines) => {
        await popSession([...opening, ...lines]);
      }),
      fuzzRun(1202, 35),
    );
    await popWorks();
    expect(errors).toEqual([]);
  });
});

// --- HTTP mailbox API ----------------------------------------------------------------------

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
/** A path segment: a plausible one, or anything percent-encoded, or raw characters Node lets through. */
const segment = fc.oneof(
  fc.constantFrom("INBOX", "Trash", "Sent", "Nope", "1", "2", "3", "0", "-1", "99999999999999999999", "1.5", "%2F", "%00", "%ZZ", "..", ".", "", "a%2Fb", "%C3%A9", "%FF"),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.stringMatching(/^[!$&'()*+,;=:@~._a-zA-Z0-9-]{0,12}$/),
);
const httpPath = fc.oneof(
  fc.constant("/v1/folders"),
  segment.map((f) => `/v1/folders/${f}/messages`),
  fc.tuple(segment, segment).map(([f, u]) => `/v1/folders/${f}/messages/${u}`),
  fc.tuple(segment, segment).map(([f, u]) => `/v1/folders/${f}/messages/${u}/raw`),
  fc.tuple(segment, segment, segment).map(([f, u, i]) => `/v1/folders/${f}/messages/${u}/attachments/${i}`),
  fc.tuple(segment, segment).map(([f, u]) => `/v1/folders/${f}/messages/${u}/flags`),
  fc.tuple(segment, segment).map(([f, u]) => `/v1/folders/${f}/messages/${u}/move`),
  fc.constant("/v1/tokens"),
  segment.map((id) => `/v1/tokens/${id}`),
  fc.array(segment, { maxLength: 4 }).map((s) => `/${s.join("/")}`),
);
const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(fc.constantFrom("limit", "cursor", "expunge", "x", "limit[]", "__proto__"), fc.oneof(segment, number, fc.constantFrom("true", "false", "")), { maxKeys: 3 }).map(
    (q) => "?" + Object.entries(q).map(([k, v]) => `${k}=${v}`).join("&"),
  ),
  fc.constantFrom("?limit=1&limit=2", "?cursor=", "?&&", "?%", "?limit=1e2"),
);
const jsonBody = fc.oneof(
  fc.record({ add: fc.array(fc.oneof(flag, atom), { maxLength: 3 }), remove: fc.array(flag, { maxLength: 2 }) }, { requiredKeys: [] }),
  fc.record({ to: fc.oneof(mailbox, fc.string({ maxLength: 300 })) }, { requiredKeys: [] }),
  fc.record({ description: fc.string({ maxLength: 250 }), expires_in: fc.oneof(fc.integer(), fc.double(), fc.string()) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 }),
).map((v) => JSON.stringify(v));
const httpRequest = fc.record({
  method: fc.constantFrom("GET", "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"),
  path: fc.tuple(httpPath, query).map(([p, q]) => p + q),
  auth: fc.oneof(
    { weight: 6, arbitrary: fc.constant(basic(USER, PASSWORD)) },
    fc.constant(undefined),
    fc.constantFrom("Basic", "Basic !!!", "Basic " + Buffer.from("nocolon").toString("base64"), "Bearer", "Bearer x", "Negotiate abc", basic(USER, "wrong"), basic("", "")),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  ),
  accept: fc.constantFrom(undefined, "application/json", "message/rfc822", "*/*", "text/html", "application/json;q=0, message/rfc822", ";;,"),
  contentType: fc.constantFrom(undefined, "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin9"),
  body: fc.oneof(jsonBody, fc.constant(undefined), noise, fc.constantFrom("{", "[]", "null", '{"add":', "\u0000")),
});

describe("HTTP mailbox API under fuzzed requests", () => {
  it("answers every bad request with a problem+json 4xx, never a 5xx, and serves a clean request after", async () => {
    await fc.assert(
      fc.asyncProperty(httpRequest, async (r) => {
        const headers: Record<string, string> = {};
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.accept !== undefined) headers.accept = r.accept;
        if (r.contentType !== undefined && r.body !== undefined) headers["content-type"] = r.contentType;
        const res = await rawHttp(listeners.apiPort, { method: r.method, path: r.path, headers, body: r.body === undefined ? undefined : Buffer.from(r.body, "latin1") });
        const what = `${r.method} ${r.path} → ${res.status} ${res.body.toString().slice(0, 300)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400 && r.method !== "HEAD") {
          expect(res.headers["content-type"], what).toMatch(/^application\/problem\+json/);
          const problem = JSON.parse(res.body.toString());
          expect(problem.status, what).toBe(res.status);
          expect(typeof problem.title, what).toBe("string");
        }
      }),
      fuzzRun(1203, 100),
    );
    const ok = await rawHttp(listeners.apiPort, { method: "GET", path: "/v1/folders", headers: { authorization: basic(USER, PASSWORD) } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString()).folders.map((f: { name: string }) => f.name)).toContain("INBOX");
  });
});

describe("what the fuzzers found, kept as cases", () => {
  it("refuses a folder name holding NUL (%00) with 400, not 503 for ever", async () => {
    const auth = { authorization: basic(USER, PASSWORD) };
    for (const r of [
      { method: "GET", path: "/v1/folders/%00/messages", headers: auth },
      { method: "HEAD", path: "/v1/folders/a%00b/messages/1", headers: auth },
      { method: "POST", path: "/v1/folders/INBOX/messages/1/move", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ to: "Tr\u0000ash" }) },
    ]) {
      const res = await rawHttp(listeners.apiPort, r);
      expect(res.status, `${r.method} ${r.path} ${res.body.toString()}`).toBe(400);
      if (r.method !== "HEAD") expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    }
  });

  it("answers a path with non-UTF-8 percent-encoding (%FF) with a 400 problem, not fastify's own JSON", async () => {
    const res = await rawHttp(listeners.apiPort, { method: "GET", path: "/v1/folders/%FF/messages", headers: { authorization: basic(USER, PASSWORD) } });
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body.toString()).errors).toEqual([{ field: "url", message: expect.stringMatching(/not a valid URL/) }]);
  });
});
