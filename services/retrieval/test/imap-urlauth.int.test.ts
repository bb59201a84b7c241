/**
 * RFC 4467 URLAUTH on the wire: GENURLAUTH authorizes a URL to the user's own message with
 * the mailbox's access key (INTERNAL: HMAC-SHA256), URLFETCH gives what it names to whoever
 * its access identifier admits, RESETKEY revokes. Raw IMAP lines against a real listener on
 * a real PostgreSQL (migration 022 keeps the keys).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

const PASSWORD = "correct horse battery";
const OWNER = "joe@imap.test";
const OTHER = "fred@imap.test";
const MESSAGE = "From: joe@imap.test\r\nSubject: report\r\nContent-Type: text/plain\r\n\r\nthe numbers\r\n";
const ATTACHED = [
  "From: joe@imap.test",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "Content-Transfer-Encoding: base64",
  "",
  "aGVsbG8gd29ybGQ=",
  "--b",
  "Content-Type: application/octet-stream",
  "Content-Transfer-Encoding: base64",
  "",
  "AC3k",
  "--b--",
  "",
].join("\r\n");

let infra: IsolatedInfra;
let listener: ImapListener;

type Session = { run: (line: string) => Promise<string>; close: () => void };

async function login(user: string): Promise<Session> {
  const wire = await LineWire.open(listener.port);
  await wire.until(/^\* OK[^\r]*\r\n/);
  const run = async (line: string) => {
    const tag = line.split(" ")[0]!;
    wire.drain();
    wire.write(line + "\r\n");
    return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
  };
  expect(await run(`L LOGIN ${user} "${PASSWORD}"`)).toContain("L OK");
  return { run, close: () => wire.close() };
}

let joe: Session;
let fred: Session;

/** GENURLAUTH of one rump; the authorized URL. */
async function authorize(rump: string, s: Session = joe): Promise<string> {
  const out = await s.run(`g GENURLAUTH "${rump}" INTERNAL`);
  expect(out).toContain("g OK");
  return /\* GENURLAUTH "([^"]+)"/.exec(out)![1]!;
}

/** One URLFETCH argument: a URL (sent quoted) or a parenthesized RFC 5524 request (sent as is). */
const fetched = async (s: Session, arg: string) => (await s.run(`f URLFETCH ${arg.startsWith("(") ? arg : `"${arg}"`}`)).split("\r\nf OK")[0]!;

beforeAll(async () => {
  infra = await isolatedInfra("imapurlauth");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, OWNER, PASSWORD);
  await addAccount(infra.pool, OTHER, PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), hostname: "imap.test", name: "imap-urlauth-test" });
  joe = await login(OWNER);
  fred = await login(OTHER);
  expect(await joe.run("c CREATE Reports")).toContain("c OK");
  expect(await joe.run(`a APPEND Reports {${MESSAGE.length}+}\r\n${MESSAGE}`)).toContain("a OK");
  expect(await joe.run(`a2 APPEND Reports {${ATTACHED.length}+}\r\n${ATTACHED}`)).toContain("a2 OK");
});

afterAll(async () => {
  joe?.close();
  fred?.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("URLAUTH (RFC 4467)", () => {
  it("is advertised once authenticated, and SELECT names the mechanism (URLMECH)", async () => {
    expect(await joe.run("c CAPABILITY")).toMatch(/\* CAPABILITY [^\r]* URLAUTH[ \r]/);
    expect(await fred.run("s EXAMINE INBOX")).toContain("* OK [URLMECH INTERNAL] ");
  });

  it("GENURLAUTH appends :INTERNAL: and a 256-bit token to the rump, the same for the same rump (§7.1)", async () => {
    const rump = "imap://joe@imap.test/Reports/;uid=1;urlauth=authuser";
    const url = await authorize(rump);
    expect(url).toMatch(new RegExp(`^${rump.replace(/[.+?^$()|[\]\\/]/g, "\\$&")}:INTERNAL:[0-9a-f]{64}$`));
    expect(await authorize(rump)).toBe(url);
  });

  it("URLFETCH gives the message to whoever the access identifier admits (§3, §7.2)", async () => {
    const authuser = await authorize("imap://joe@imap.test/Reports/;uid=1;urlauth=authuser");
    expect(await fetched(fred, authuser)).toBe(`* URLFETCH "${authuser}" {${MESSAGE.length}}\r\n${MESSAGE}`);
    const forFred = await authorize("imap://joe@imap.test/Reports/;uid=1/;section=TEXT;urlauth=user+fred@imap.test");
    expect(await fetched(fred, forFred)).toBe(`* URLFETCH "${forFred}" {13}\r\nthe numbers\r\n`);
    expect(await fetched(joe, forFred)).toBe(`* URLFETCH "${forFred}" NIL`);
    const forSubmit = await authorize("imap://joe@imap.test/Reports/;uid=1;urlauth=submit+joe@imap.test");
    expect(await fetched(joe, forSubmit)).toBe(`* URLFETCH "${forSubmit}" NIL`);
  });

  it("answers NIL for a changed token, an expired URL and a URL without authorization", async () => {
    const url = await authorize("imap://joe@imap.test/Reports/;uid=1;urlauth=anonymous");
    const tampered = url.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    expect(await fetched(joe, tampered)).toBe(`* URLFETCH "${tampered}" NIL`);
    const other = url.replace("Reports/;uid=1", "Reports/;uid=1/;section=TEXT");
    expect(await fetched(joe, other)).toBe(`* URLFETCH "${other}" NIL`);
    const expired = await authorize("imap://joe@imap.test/Reports/;uid=1;expire=2020-01-01T00:00:00Z;urlauth=anonymous");
    expect(await fetched(joe, expired)).toBe(`* URLFETCH "${expired}" NIL`);
    expect(await fetched(joe, "/Reports/;uid=1")).toBe(`* URLFETCH "/Reports/;uid=1" NIL`);
  });

  it("answers every URL of one URLFETCH in one response", async () => {
    const url = await authorize("imap://joe@imap.test/Reports/;uid=1/;section=TEXT;urlauth=authuser");
    expect(await joe.run(`m URLFETCH "${url}" "/x/;uid=1"`)).toContain(`* URLFETCH "${url}" {13}\r\nthe numbers\r\n "/x/;uid=1" NIL\r\nm OK`);
  });

  it("GENURLAUTH refuses another user's message, a missing message and a URL without ;URLAUTH= with NO [BADURL]", async () => {
    expect(await fred.run(`b1 GENURLAUTH "imap://joe@imap.test/Reports/;uid=1;urlauth=authuser" INTERNAL`)).toMatch(/b1 NO \[BADURL [^\]]+\] the URL is for joe/);
    expect(await joe.run(`b2 GENURLAUTH "imap://joe@imap.test/Reports/;uid=9;urlauth=authuser" INTERNAL`)).toMatch(/b2 NO \[BADURL [^\]]+\] no message with UID 9/);
    expect(await joe.run(`b3 GENURLAUTH "imap://joe@imap.test/Reports/;uid=1" INTERNAL`)).toMatch(/b3 NO \[BADURL [^\]]+\] [^\r]*;URLAUTH=access/);
    expect(await joe.run(`b4 GENURLAUTH "imap://joe@imap.test/Reports/;uid=1;urlauth=authuser" XSHA1`)).toMatch(/b4 NO [^\r]*unknown URLAUTH mechanism XSHA1/);
    expect(await joe.run(`b5 GENURLAUTH "imap://joe@imap.test/Reports/;uid=1;urlauth=authuser"`)).toMatch(/b5 BAD /);
  });

  it("lets CATENATE join another user's message through a URLAUTH URL, and not once it is revoked (RFC 4469 §5)", async () => {
    const url = await authorize("imap://joe@imap.test/Reports/;uid=1/;section=TEXT;urlauth=user+fred@imap.test");
    expect(await fred.run(`k1 APPEND INBOX CATENATE (TEXT {16+}\r\nSubject: fwd\r\n\r\n URL "${url}")`)).toMatch(/k1 OK \[APPENDUID/);
    expect(await fred.run("k2 EXAMINE INBOX")).toContain("k2 OK");
    expect(await fred.run("k3 FETCH 1 BODY.PEEK[]")).toContain("BODY[] {29}\r\nSubject: fwd\r\n\r\nthe numbers\r\n)");
    expect(await joe.run(`k4 APPEND INBOX CATENATE (URL "${url}")`)).toMatch(/k4 NO \[BADURL [^\]]+\] access user\+fred@imap.test does not admit joe@imap.test/);
    expect(await joe.run("k5 RESETKEY Reports")).toContain("k5 OK");
    expect(await fred.run(`k6 APPEND INBOX CATENATE (URL "${url}")`)).toMatch(/k6 NO \[BADURL [^\]]+\] [^\r]*does not match/);
  });

  it("RESETKEY of the mailbox makes its URLs fetch NIL, and new ones work (§7.3)", async () => {
    const url = await authorize("imap://joe@imap.test/Reports/;uid=1;urlauth=authuser");
    expect(await joe.run("r RESETKEY Reports INTERNAL")).toContain("r OK [URLMECH INTERNAL]");
    expect(await fetched(fred, url)).toBe(`* URLFETCH "${url}" NIL`);
    const fresh = await authorize("imap://joe@imap.test/Reports/;uid=1;urlauth=authuser");
    expect(fresh).not.toBe(url);
    expect(await fetched(fred, fresh)).toContain(`{${MESSAGE.length}}`);
    expect(await joe.run("r2 RESETKEY")).toContain("r2 OK");
    expect(await fetched(fred, fresh)).toBe(`* URLFETCH "${fresh}" NIL`);
    expect(await joe.run("r3 RESETKEY Nowhere")).toMatch(/r3 NO \[NONEXISTENT\]/);
    expect(await joe.run("r4 RESETKEY Reports XSHA1")).toMatch(/r4 NO [^\r]*XSHA1/);
  });
});

describe("URLAUTH=BINARY (RFC 5524)", () => {
  it("is advertised", async () => {
    expect(await joe.run("c CAPABILITY")).toMatch(/\* CAPABILITY [^\r]* URLAUTH=BINARY[ \r]/);
  });

  it("URLFETCH (url BINARY) decodes the part, BODY gives it as stored, BODYPARTSTRUCTURE describes it (§3)", async () => {
    const url = await authorize("imap://joe@imap.test/Reports/;uid=2/;section=1;urlauth=authuser");
    expect(await fetched(fred, `(${url} BODYPARTSTRUCTURE BODY BINARY)`)).toBe(
      `* URLFETCH "${url}" (BODYPARTSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "BASE64" 11 0 NIL NIL NIL NIL) BODY {16}\r\naGVsbG8gd29ybGQ= BINARY {11}\r\nhello world)`,
    );
    expect(await fetched(fred, `(${url} BODYPARTSTRUCTURE)`)).toContain('(BODYPARTSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "BASE64" 16 0 NIL NIL NIL NIL))');
  });

  it("sends decoded octets with NULs as a literal8, and a whole message with every part decoded", async () => {
    const part = await authorize("imap://joe@imap.test/Reports/;uid=2/;section=2;urlauth=authuser");
    expect(await fetched(fred, `(${part} BINARY)`)).toBe(`* URLFETCH "${part}" (BINARY ~{3}\r\n\x00-\xe4)`);
    const whole = await authorize("imap://joe@imap.test/Reports/;uid=2;urlauth=authuser");
    const out = await fetched(fred, `(${whole} BINARY)`);
    expect(out).toContain("Content-Transfer-Encoding: binary\r\n\r\nhello world\r\n--b\r\n");
    expect(out).toContain("Content-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\r\n--b--\r\n)");
    expect(out).toMatch(/BINARY ~\{\d+\}\r\nFrom: joe@imap.test\r\n/);
  });

  it("answers NIL, not a list, for a URL it cannot fetch, and BAD for an unknown parameter", async () => {
    expect(await fetched(fred, "(/Reports/;uid=2 BINARY)")).toBe('* URLFETCH "/Reports/;uid=2" NIL');
    expect(await fred.run("u URLFETCH (/Reports/;uid=2 TEXT)")).toMatch(/u BAD [^\r]*unknown URLFETCH parameter TEXT/);
  });
});
