/**
 * RFC 3502 MULTIAPPEND on the wire: several messages in one APPEND, stored all together in
 * one transaction or not at all, answered with APPENDUID and the UID set (RFC 4315 §3).
 * Raw IMAP lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain, setQuota } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

const PASSWORD = "correct horse battery";
const USER = "multi@imap.test";
const TIGHT = "tight@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let store: MailStore;

const message = (subject: string, body = "hello") => `From: bea@example.org\r\nTo: multi@imap.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`;
/** A LITERAL+ literal of `text`, so the command goes out in one write. */
const lit = (text: string) => `{${Buffer.byteLength(text)}+}\r\n${text}`;

class Conversation {
  private constructor(private readonly wire: LineWire) {}

  static async open(user = USER): Promise<Conversation> {
    const wire = await LineWire.open(listener.port);
    await wire.until(/^\* OK[^\r]*\r\n/);
    const c = new Conversation(wire);
    expect(await c.run(`L LOGIN ${user} "${PASSWORD}"`)).toContain("L OK");
    return c;
  }

  async run(line: string): Promise<string> {
    const tag = line.split(" ")[0]!;
    this.wire.drain();
    this.wire.write(line + "\r\n");
    return this.wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
  }

  /** Sends `text` raw and waits for `end`. */
  async send(text: string, end: RegExp): Promise<string> {
    this.wire.write(text);
    return this.wire.until(end, 5_000);
  }

  close(): void {
    this.wire.close();
  }
}

beforeAll(async () => {
  infra = await isolatedInfra("imapmulti");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, USER, PASSWORD);
  await addAccount(infra.pool, TIGHT, PASSWORD);
  store = new MailStore({ pool: infra.pool });
  listener = await startTestImapListener({ infra, mail: store, hostname: "imap.test", name: "imap-multiappend-test" });
});

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

describe("MULTIAPPEND (RFC 3502)", () => {
  it("is advertised once authenticated", async () => {
    const a = await Conversation.open();
    expect(await a.run("c1 CAPABILITY")).toMatch(/\* CAPABILITY [^\r]* MULTIAPPEND[ \r]/);
    a.close();
  });

  it("stores every message of one APPEND, in order, with its own flags and date, and answers the UID set", async () => {
    const a = await Conversation.open();
    expect(await a.run("m1 CREATE multi1")).toContain("m1 OK");
    const out = await a.run(
      `m2 APPEND multi1 (\\Seen) ${lit(message("one"))} "24-Mar-2007 23:00:00 +0200" ${lit(message("two"))} (\\Flagged $Work) "01-Jan-2020 10:00:00 +0000" ${lit(message("three"))}`,
    );
    const m = /m2 OK \[APPENDUID (\d+) ([\d:,]+)\]/.exec(out);
    expect(m?.[2]).toBe("1:3");
    const sel = await a.run("m3 SELECT multi1");
    expect(sel).toContain("* 3 EXISTS\r\n");
    expect(sel).toContain(`[UIDVALIDITY ${m?.[1]}]`);
    const fetched = await a.run("m4 FETCH 1:3 (UID FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    expect(fetched).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen( \\Recent)?\) INTERNALDATE "[^"]+" BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: one\r\n/);
    expect(fetched).toMatch(/\* 2 FETCH \(UID 2 FLAGS \((\\Recent)?\) INTERNALDATE "24-Mar-2007 21:00:00 \+0000" BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: two\r\n/);
    expect(fetched).toMatch(/\* 3 FETCH \(UID 3 FLAGS \([^)]*\\Flagged[^)]*\) INTERNALDATE "01-Jan-2020 10:00:00 \+0000" BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: three\r\n/);
    expect(fetched).toMatch(/\* 3 FETCH \(UID 3 FLAGS \([^)]*\$Work/);
    a.close();
  });

  it("takes synchronizing literals one continuation at a time (imaptest's multiappend)", async () => {
    const a = await Conversation.open();
    expect(await a.run("s1 CREATE multi2")).toContain("s1 OK");
    const one = message("mail1", "body1");
    const two = message("mail2", "body2");
    expect(await a.send(`s2 APPEND multi2 {${one.length}}\r\n`, /^\+[^\r]*\r\n/)).toMatch(/^\+/);
    expect(await a.send(`${one} {${two.length}}\r\n`, /^\+[^\r]*\r\n/)).toMatch(/^\+/);
    expect(await a.send(`${two}\r\n`, /s2 (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/s2 OK \[APPENDUID \d+ 1:2\]/);
    const st = await a.run("s3 STATUS multi2 (MESSAGES UIDNEXT)");
    expect(st).toContain("(MESSAGES 2 UIDNEXT 3)");
    a.close();
  });

  it("stores none when a later message is over the quota: the first one is rolled back", async () => {
    const first = message("fits");
    const second = message("too big", "x".repeat(4000));
    await setQuota(infra.pool, TIGHT, Buffer.byteLength(first) + 1000);
    const a = await Conversation.open(TIGHT);
    expect(await a.run("q1 CREATE atomic")).toContain("q1 OK");
    const out = await a.run(`q2 APPEND atomic ${lit(first)} ${lit(second)}`);
    expect(out).toMatch(/q2 NO \[OVERQUOTA\]/);
    expect(await a.run("q3 STATUS atomic (MESSAGES UIDNEXT)")).toContain("(MESSAGES 0 UIDNEXT 1)");
    // The first alone still fits: nothing of the refused APPEND was left counted.
    expect(await a.run(`q4 APPEND atomic ${lit(first)}`)).toMatch(/q4 OK \[APPENDUID \d+ 1\]/);
    a.close();
  });

  it("stores none when one of the messages is empty (RFC 3502: a zero-length literal cancels the command)", async () => {
    const a = await Conversation.open();
    expect(await a.run("z1 CREATE multi3")).toContain("z1 OK");
    expect(await a.run(`z2 APPEND multi3 ${lit(message("one"))} {0+}\r\n`)).toMatch(/z2 NO /);
    expect(await a.run("z3 STATUS multi3 (MESSAGES)")).toContain("(MESSAGES 0)");
    a.close();
  });

  it("stores none when a later message's arguments are bad", async () => {
    const a = await Conversation.open();
    expect(await a.run("b1 CREATE multi4")).toContain("b1 OK");
    expect(await a.run(`b2 APPEND multi4 ${lit(message("one"))} "not a date" ${lit(message("two"))}`)).toMatch(/b2 BAD /);
    expect(await a.run(`b3 APPEND multi4 ${lit(message("one"))} (\\Seen)`)).toMatch(/b3 BAD /);
    expect(await a.run("b4 STATUS multi4 (MESSAGES)")).toContain("(MESSAGES 0)");
    a.close();
  });

  it("answers TRYCREATE and stores nothing for a mailbox that does not exist", async () => {
    const a = await Conversation.open();
    expect(await a.run(`t1 APPEND nosuch ${lit(message("one"))} ${lit(message("two"))}`)).toMatch(/t1 NO \[TRYCREATE\]/);
    a.close();
  });
});

describe("APPENDLIMIT (RFC 7889)", () => {
  // startTestImapListener's literal limit: 1 MiB.
  const LIMIT = 1024 * 1024;

  it("is advertised as the literal limit, and STATUS and LIST-STATUS answer it per mailbox", async () => {
    const a = await Conversation.open();
    expect(await a.run("l1 CAPABILITY")).toMatch(new RegExp(`\\* CAPABILITY [^\\r]* APPENDLIMIT=${LIMIT}[ \\r]`));
    expect(await a.run("l2 STATUS INBOX (MESSAGES APPENDLIMIT)")).toMatch(new RegExp(`\\* STATUS "INBOX" \\(MESSAGES \\d+ APPENDLIMIT ${LIMIT}\\)`));
    expect(await a.run('l3 LIST "" INBOX RETURN (STATUS (APPENDLIMIT))')).toContain(`* STATUS "INBOX" (APPENDLIMIT ${LIMIT})`);
    a.close();
  });

  it("refuses a message over it with NO [TOOBIG], and with it the messages before it in the same APPEND", async () => {
    const a = await Conversation.open();
    expect(await a.run("o1 CREATE limited")).toContain("o1 OK");
    expect(await a.run(`o2 APPEND limited {${LIMIT + 1}}`)).toMatch(/o2 NO \[TOOBIG\]/);
    expect(await a.run(`o3 APPEND limited ${lit(message("fits"))} {${LIMIT + 1}}`)).toMatch(/o3 NO \[TOOBIG\]/);
    expect(await a.run("o4 STATUS limited (MESSAGES)")).toContain("(MESSAGES 0)");
    // The connection goes on: a message at the limit is taken.
    const head = "Subject: big\r\n\r\n";
    const big = head + "x".repeat(LIMIT - head.length);
    expect(await a.run(`o5 APPEND limited ${lit(big)}`)).toMatch(/o5 OK \[APPENDUID \d+ 1\]/);
    a.close();
  });
});

describe("LITERAL+ (RFC 7888), not LITERAL-", () => {
  it("advertises LITERAL+ alone and takes a non-synchronizing literal over 4096 octets (the LITERAL- cap does not apply)", async () => {
    const a = await Conversation.open();
    const caps = await a.run("n1 CAPABILITY");
    expect(caps).toMatch(/\* CAPABILITY [^\r]*LITERAL\+[ \r]/);
    expect(caps).not.toContain("LITERAL-");
    expect(await a.run("n2 CREATE nonsync")).toContain("n2 OK");
    const body = message("large", "y".repeat(8000));
    expect(await a.run(`n3 APPEND nonsync ${lit(body)} ${lit(message("second"))}`)).toMatch(/n3 OK \[APPENDUID \d+ 1:2\]/);
    a.close();
  });
});
