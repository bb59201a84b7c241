/**
 * RFC 4469 CATENATE on the wire: APPEND joining TEXT literals and URL parts that name
 * messages (or their sections, or partial ranges) of the user's own mailboxes (RFC 5092),
 * with MULTIAPPEND, and NO [BADURL …], [TRYCREATE] and [TOOBIG] storing nothing. Raw IMAP
 * lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

const PASSWORD = "correct horse battery";
const USER = "cat@imap.test";
const OTHER = "other@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;

const lit = (text: string) => `{${text.length}+}\r\n${text}`;
const FIRST = "From: foo@example.com\r\nSubject: first\r\n\r\nHello world body\r\n";

async function login(user: string): Promise<{ run: (line: string) => Promise<string>; close: () => void }> {
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

let a: Awaited<ReturnType<typeof login>>;
let uidValidity: number;

beforeAll(async () => {
  infra = await isolatedInfra("imapcatenate");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, USER, PASSWORD);
  await addAccount(infra.pool, OTHER, PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), hostname: "imap.test", name: "imap-catenate-test" });
  a = await login(USER);
  expect(await a.run("c1 CREATE src")).toContain("c1 OK");
  expect(await a.run("c2 CREATE dst")).toContain("c2 OK");
  const appended = await a.run(`a1 APPEND src ${lit(FIRST)}`);
  uidValidity = Number(/APPENDUID (\d+) 1\]/.exec(appended)![1]);
});

afterAll(async () => {
  a?.close();
  await listener?.close();
  await infra?.cleanup();
});

async function lastMessage(): Promise<string> {
  const out = await a.run("x EXAMINE dst");
  const exists = Number(/\* (\d+) EXISTS/.exec(out)![1]);
  const body = await a.run(`y FETCH ${exists} BODY.PEEK[]`);
  return /BODY\[\] \{\d+\}\r\n([\s\S]*)\)\r\ny OK/.exec(body)![1]!;
}

describe("CATENATE (RFC 4469)", () => {
  it("is advertised once authenticated", async () => {
    expect(await a.run("c CAPABILITY")).toMatch(/\* CAPABILITY [^\r]* CATENATE[ \r]/);
  });

  it("joins a URL's section with TEXT literals, in order (§5)", async () => {
    const out = await a.run(`p1 APPEND dst (\\Seen) CATENATE (URL "/src;UIDVALIDITY=${uidValidity}/;UID=1/;SECTION=HEADER" TEXT ${lit("body1\r\n")})`);
    expect(out).toMatch(/p1 OK \[APPENDUID \d+ 1\]/);
    expect(await lastMessage()).toBe("From: foo@example.com\r\nSubject: first\r\n\r\nbody1\r\n");
    await a.run(`p2 APPEND dst CATENATE (TEXT ${lit("From: new@example.com\r\n\r\n")} URL "imap://cat@imap.test/src/;uid=1/;section=TEXT" TEXT ${lit("suffix\r\n")})`);
    expect(await lastMessage()).toBe("From: new@example.com\r\n\r\nHello world body\r\nsuffix\r\n");
  });

  it("takes a whole message, a HEADER.FIELDS section and a partial range", async () => {
    await a.run(`q1 APPEND dst CATENATE (URL "/src/;uid=1/;section=HEADER.FIELDS%20(SUBJECT)" URL "/src/;uid=1/;section=TEXT/;partial=6.5" TEXT ${lit("\r\n")})`);
    expect(await lastMessage()).toBe("Subject: first\r\n\r\nworld\r\n");
    await a.run(`q2 APPEND dst CATENATE (URL "imap://cat%40imap.test@imap.test/src/;uid=1")`);
    expect(await lastMessage()).toBe(FIRST);
  });

  it("stores several CATENATE and literal messages in one MULTIAPPEND", async () => {
    const out = await a.run(`m APPEND dst CATENATE (URL "/src/;uid=1") (\\Answered) ${lit("New: Message\r\n\r\nbody4\r\n")}`);
    expect(out).toMatch(/m OK \[APPENDUID \d+ \d+:\d+\]/);
    expect(await lastMessage()).toBe("New: Message\r\n\r\nbody4\r\n");
  });

  it("refuses an unresolvable URL with NO [BADURL url] and stores none of the command's messages (§6)", async () => {
    const before = await a.run("s1 STATUS dst (MESSAGES)");
    const cases = [
      [`/src;UIDVALIDITY=${uidValidity + 1}/;UID=1`, /UIDVALIDITY/],
      ["/src/;UID=99", /no message with UID 99/],
      ["/nowhere/;UID=1", /no mailbox nowhere/],
      ["/src/;UID=1/;SECTION=5", /no section 5/],
      ["imap://other@imap.test/src/;uid=1", /is for other, not for cat@imap.test/],
      ["imap://cat%40imap.test@mail.example.org/src/;uid=1", /another server, mail.example.org/],
      ["imap://cat@imap.test/src", /one message/],
    ] as const;
    for (const [url, why] of cases) {
      const out = await a.run(`b APPEND dst ${lit("Ok: 1\r\n\r\nfine\r\n")} CATENATE (TEXT ${lit("x: 1\r\n\r\n")} URL "${url}")`);
      expect(out).toMatch(new RegExp(`b NO \\[BADURL ${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\] `));
      expect(out).toMatch(why);
    }
    expect(await a.run("s2 STATUS dst (MESSAGES)")).toBe(before.replace(/s1/g, "s2"));
  });

  it("does not let another user's URL reach this user's mailboxes", async () => {
    const b = await login(OTHER);
    expect(await b.run(`o APPEND INBOX CATENATE (URL "/src/;uid=1")`)).toMatch(/o NO \[BADURL \/src\/;uid=1\] no mailbox src/);
    b.close();
  });

  it("answers TRYCREATE for a destination that does not exist, before looking at URLs", async () => {
    expect(await a.run(`t APPEND nowhere CATENATE (URL "/src;UIDVALIDITY=1/;UID=1")`)).toMatch(/t NO \[TRYCREATE\]/);
  });

  it("refuses a joined message over APPENDLIMIT (the test listener's 1 MiB) with NO [TOOBIG]", async () => {
    const big = "y".repeat(1024 * 1024 - 10);
    expect(await a.run(`z APPEND dst CATENATE (URL "/src/;uid=1" TEXT ${lit(big)})`)).toMatch(/z NO \[TOOBIG\]/);
  });

  it("keeps a message joined from a literal8 TEXT part 8-bit clean, as a literal8 APPEND (RFC 3516 §4.2)", async () => {
    const text = "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\xff";
    expect(await a.run(`l8 APPEND dst CATENATE (TEXT ~{${text.length}+}\r\n${text})`)).toContain("l8 OK");
    expect(await lastMessage()).toBe("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAP8=\r\n");
  });

  it("answers malformed CATENATE parts with BAD", async () => {
    expect(await a.run(`d1 APPEND dst CATENATE (TEXT "not a literal")`)).toMatch(/d1 BAD [^\r]*literal/);
    expect(await a.run(`d2 APPEND dst CATENATE (BODY ${lit("x")})`)).toMatch(/d2 BAD [^\r]*TEXT or URL/);
    expect(await a.run(`d3 APPEND dst CATENATE ()`)).toMatch(/d3 BAD /);
  });
});
