/**
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1 on one server: both are advertised, and a session
 * that sends `ENABLE IMAP4rev2` gets RFC 9051's semantics (Appendix E) while a session that
 * does not keeps RFC 3501's. Every difference is checked on both kinds of session, with raw
 * IMAP lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailboxWatchers } from "../src/imap/change-notifier.js";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

const PASSWORD = "correct horse battery";
const USER = "rev2@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;

/** The wire carries octets as latin1 characters: this is how `s` looks there in UTF-8. */
const utf8 = (s: string) => Buffer.from(s, "utf8").toString("latin1");
const message = (subject: string) => `From: bea@example.org\r\nTo: ${USER}\r\nSubject: ${subject}\r\n\r\nhello\r\n`;

/** One client connection: `say` sends a command and returns everything up to its tagged answer. */
interface Client {
  say(line: string): Promise<string>;
  close(): void;
}

async function client(rev2: boolean): Promise<Client> {
  const wire = await LineWire.open(listener.port);
  await wire.until(/^\* OK[^\r]*\r\n/);
  const say = async (line: string) => {
    const tag = line.split(" ")[0]!;
    wire.drain();
    wire.write(utf8(line) + "\r\n");
    return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
  };
  expect(await say(`L LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^L OK/m);
  if (rev2) expect(await say("E ENABLE IMAP4rev2")).toBe("* ENABLED IMAP4rev2\r\nE OK ENABLE completed\r\n");
  return { say, close: () => wire.close() };
}

async function append(c: Client, box: string, subject: string): Promise<void> {
  const m = message(subject);
  expect(await c.say(`A APPEND ${box} {${Buffer.byteLength(m)}+}\r\n${m}`)).toMatch(/^A OK/m);
}

let rev1: Client;
let rev2: Client;

beforeAll(async () => {
  infra = await isolatedInfra("imaprev2");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, USER, PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), watchers: new MailboxWatchers(), hostname: "imap.test", name: "imap-rev2-test" });
  rev1 = await client(false);
  rev2 = await client(true);
  for (const box of ["one", "two", "three", "four"]) {
    expect(await rev1.say(`C CREATE ${box}`)).toMatch(/^C OK/m);
    await append(rev1, box, `${box} 1`);
    await append(rev1, box, `${box} 2`);
  }
  // "Work" is deleted under its child: a level of hierarchy that is no mailbox.
  expect(await rev1.say("C CREATE Work/Sub")).toMatch(/^C OK/m);
  expect(await rev1.say("D DELETE Work")).toMatch(/^D OK/m);
});

afterAll(async () => {
  rev1?.close();
  rev2?.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("CAPABILITY and ENABLE (RFC 9051 §6.1.1, Appendix E item 8)", () => {
  it("advertises IMAP4rev2 beside IMAP4rev1, before and after login", async () => {
    const wire = await LineWire.open(listener.port);
    try {
      expect(await wire.until(/^\* OK[^\r]*\r\n/)).toMatch(/\[CAPABILITY IMAP4rev1 IMAP4rev2 /);
    } finally {
      wire.close();
    }
    expect(await rev1.say("c CAPABILITY")).toMatch(/^\* CAPABILITY IMAP4rev1 IMAP4rev2 [^\r]*\r\n/);
  });

  it("enables IMAP4rev2 once, whatever its case; a rev1 session enables nothing it does not know", async () => {
    expect(await rev2.say("e ENABLE imap4REV2")).toBe("* ENABLED\r\ne OK ENABLE completed\r\n");
    expect(await rev1.say("e ENABLE X-UNKNOWN")).toBe("* ENABLED\r\ne OK ENABLE completed\r\n");
  });
});

describe("SELECT (RFC 9051 §6.3.2)", () => {
  it("IMAP4rev1: RECENT and UNSEEN, no LIST", async () => {
    const out = await rev1.say("s SELECT one");
    expect(out).toMatch(/^\* 2 EXISTS\r\n\* 2 RECENT\r\n/);
    expect(out).toContain("* OK [UNSEEN 1]");
    expect(out).not.toMatch(/^\* LIST/m);
  });

  it("IMAP4rev2: no RECENT and no UNSEEN, but the mailbox's LIST", async () => {
    const out = await rev2.say("s SELECT two");
    expect(out).toMatch(/^\* 2 EXISTS\r\n\* LIST \(\) "\/" "two"\r\n\* FLAGS /);
    expect(out).not.toMatch(/RECENT|UNSEEN/);
    expect(out).toMatch(/^s OK \[READ-WRITE\]/m);
  });

  it("IMAP4rev2: selecting another mailbox first says OK [CLOSED]; IMAP4rev1 does not", async () => {
    const r2 = await rev2.say("s2 EXAMINE one");
    expect(r2).toMatch(/^\* OK \[CLOSED\][^\r]*\r\n\* 2 EXISTS\r\n/);
    expect(await rev1.say("s2 EXAMINE two")).not.toContain("CLOSED");
    // A SELECT that fails closes the mailbox all the same (RFC 9051 §6.3.2).
    expect(await rev2.say("s3 SELECT nosuch")).toMatch(/^\* OK \[CLOSED\][^\r]*\r\ns3 NO /);
    expect(await rev2.say("s4 SELECT two")).not.toContain("CLOSED");
    expect(await rev1.say("s4 SELECT one")).not.toContain("CLOSED");
  });
});

describe("\\Recent (RFC 9051 Appendix E: removed from IMAP4rev2)", () => {
  // Each session is the first to select its mailbox, so both claim its messages as \Recent.
  it("IMAP4rev1: FETCH FLAGS shows \\Recent, and the EXISTS of a new message comes with RECENT", async () => {
    expect(await rev1.say("s SELECT three")).toMatch(/^\* 2 RECENT\r\n/m);
    expect(await rev1.say("f FETCH 1 FLAGS")).toContain("* 1 FETCH (FLAGS (\\Recent))\r\n");
    const m = message("three 3");
    expect(await rev1.say(`A APPEND three {${Buffer.byteLength(m)}+}\r\n${m}`)).toMatch(/^\* 3 EXISTS\r\n\* 3 RECENT\r\nA OK/m);
    expect(await rev1.say("f2 FETCH 3 FLAGS")).toContain("* 3 FETCH (FLAGS (\\Recent))\r\n");
  });

  it("IMAP4rev2: FETCH FLAGS never shows \\Recent, and new messages bring EXISTS alone", async () => {
    expect(await rev2.say("s SELECT four")).not.toContain("RECENT");
    expect(await rev2.say("f FETCH 1:2 FLAGS")).toContain("* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n");
    const m = message("four 3");
    expect(await rev2.say(`A APPEND four {${Buffer.byteLength(m)}+}\r\n${m}`)).toMatch(/^\* 3 EXISTS\r\nA OK/m);
    expect(await rev2.say("f2 FETCH 3 FLAGS")).toContain("* 3 FETCH (FLAGS ())\r\n");
    // The messages are \Recent all the same, as a rev1 session that EXAMINEs sees: none left.
    expect(await rev1.say("r STATUS four (RECENT)")).toMatch(/^\* STATUS "four" \(RECENT 0\)\r\n/);
  });

  it("IMAP4rev1 takes SEARCH RECENT, NEW, OLD and STATUS RECENT; IMAP4rev2 answers them BAD", async () => {
    expect(await rev1.say("r1 SEARCH RECENT")).toMatch(/^\* SEARCH( \d+)+\r\nr1 OK/);
    expect(await rev1.say("r2 SEARCH NOT OLD NEW")).toMatch(/^r2 OK/m);
    expect(await rev1.say("r3 STATUS two (RECENT)")).toMatch(/^\* STATUS "two" \(RECENT \d+\)\r\nr3 OK/);
    for (const key of ["RECENT", "NEW", "OLD"]) expect(await rev2.say(`r SEARCH ${key}`)).toMatch(new RegExp(`^r BAD [^\\r]*IMAP4rev2 has no ${key} key`));
    expect(await rev2.say("r4 SEARCH NOT (UNSEEN RECENT)")).toMatch(/^r4 BAD /);
    expect(await rev2.say("r5 STATUS one (MESSAGES RECENT)")).toMatch(/^r5 BAD [^\r]*no RECENT status item/);
    expect(await rev2.say('r6 LIST "" one RETURN (STATUS (RECENT))')).toMatch(/^r6 BAD /);
  });
});

describe("SEARCH (RFC 9051 §6.4.4: answered with ESEARCH)", () => {
  it("IMAP4rev1: a plain SEARCH gets * SEARCH", async () => {
    expect(await rev1.say("t1 SEARCH 1:2")).toBe("* SEARCH 1 2\r\nt1 OK SEARCH completed\r\n");
  });

  it("IMAP4rev2: a plain SEARCH gets * ESEARCH with the tag and ALL", async () => {
    expect(await rev2.say("t1 SEARCH 1:2")).toBe('* ESEARCH (TAG "t1") ALL 1:2\r\nt1 OK SEARCH completed\r\n');
    const uids = [...(await rev2.say("u FETCH 1:3 UID")).matchAll(/UID (\d+)/g)].map((m) => Number(m[1]));
    expect(await rev2.say("t2 UID SEARCH ALL")).toBe(`* ESEARCH (TAG "t2") UID ALL ${uids[0]}:${uids[2]}\r\nt2 OK UID SEARCH completed\r\n`);
  });

  it("IMAP4rev2: nothing found is an ESEARCH without ALL; RETURN still chooses", async () => {
    expect(await rev2.say("t3 SEARCH DELETED")).toBe('* ESEARCH (TAG "t3")\r\nt3 OK SEARCH completed\r\n');
    expect(await rev2.say("t4 SEARCH RETURN (COUNT) ALL")).toBe('* ESEARCH (TAG "t4") COUNT 3\r\nt4 OK SEARCH completed\r\n');
  });
});

describe("STATUS (RFC 9051 §6.3.11: SIZE and DELETED)", () => {
  it("answers SIZE and DELETED in both versions", async () => {
    await rev2.say("d STORE 1 +FLAGS.SILENT (\\Deleted)");
    for (const c of [rev1, rev2]) expect(await c.say("st STATUS four (MESSAGES DELETED SIZE)")).toMatch(/^\* STATUS "four" \(MESSAGES 3 DELETED 1 SIZE \d+\)\r\nst OK/);
    await rev2.say("d2 STORE 1 -FLAGS.SILENT (\\Deleted)");
  });
});

describe("LIST (RFC 9051 §6.3.9, §7.3.1)", () => {
  it("IMAP4rev1: a level a trailing % matches that is no mailbox is \\Noselect \\HasChildren", async () => {
    const out = await rev1.say('l LIST "" %');
    expect(out).toContain('* LIST (\\Noselect \\HasChildren) "/" "Work"\r\n');
    expect(out).toContain('* LIST (\\HasNoChildren) "/" "one"\r\n');
    expect(await rev1.say('l2 LIST "" Work/%')).toBe('* LIST (\\HasNoChildren) "/" "Work/Sub"\r\nl2 OK LIST completed\r\n');
    expect(await rev1.say('l3 LIST "" *')).not.toMatch(/"\/" "Work"\r\n/);
  });

  it("IMAP4rev2: the same level is \\NonExistent \\HasChildren", async () => {
    const out = await rev2.say('l LIST "" %');
    expect(out).toContain('* LIST (\\NonExistent \\HasChildren) "/" "Work"\r\n');
    expect(out).toContain('* LIST (\\HasNoChildren) "/" "one"\r\n');
    expect(await rev2.say('l2 LIST "" W%')).toBe('* LIST (\\NonExistent \\HasChildren) "/" "Work"\r\nl2 OK LIST completed\r\n');
    expect(await rev2.say('l3 LIST "" * RETURN (STATUS (MESSAGES))')).not.toContain('STATUS "Work" ');
  });
});

describe("mailbox names (RFC 9051 §5.1: UTF-8, not modified UTF-7)", () => {
  it("IMAP4rev2 creates, lists and selects a name in UTF-8; IMAP4rev1 sees it in modified UTF-7", async () => {
    expect(await rev2.say('m1 CREATE "Café"')).toMatch(/^m1 OK/m);
    expect(await rev2.say('m2 LIST "" "Caf*"')).toBe(utf8('* LIST (\\HasNoChildren) "/" "Café"\r\nm2 OK LIST completed\r\n'));
    expect(await rev1.say('m2 LIST "" "Caf*"')).toBe('* LIST (\\HasNoChildren) "/" "Caf&AOk-"\r\nm2 OK LIST completed\r\n');
    expect(await rev1.say("m3 STATUS Caf&AOk- (MESSAGES)")).toBe('* STATUS "Caf&AOk-" (MESSAGES 0)\r\nm3 OK STATUS completed\r\n');
    // In IMAP4rev2 "&" is only a character: "Caf&AOk-" is another (nonexistent) name.
    expect(await rev2.say("m4 STATUS Caf&AOk- (MESSAGES)")).toMatch(/^m4 NO \[NONEXISTENT\]/);
    expect(await rev2.say('m5 SELECT "Café"')).toContain(utf8('* LIST () "/" "Café"\r\n'));
  });

  it("IMAP4rev2: a name not in NFC names the NFC mailbox, and SELECT's LIST gives the spelling as OLDNAME", async () => {
    const decomposed = "Cafe\u0301";
    const out = await rev2.say(`m6 SELECT "${decomposed}"`);
    expect(out).toContain(utf8(`* LIST () "/" "Café" ("OLDNAME" ("${decomposed}"))\r\n`));
    expect(out).toMatch(/^m6 OK \[READ-WRITE\]/m);
  });
});

describe("CHECK (RFC 3501 §6.4.1; removed by RFC 9051 Appendix E)", () => {
  it("IMAP4rev1 still takes CHECK; IMAP4rev2 answers BAD and points to NOOP", async () => {
    await rev1.say("s SELECT one");
    expect(await rev1.say("k CHECK")).toBe("k OK CHECK completed\r\n");
    expect(await rev2.say("k CHECK")).toMatch(/^k BAD [^\r]*NOOP\r\n$/);
    expect(await rev2.say("k2 NOOP")).toMatch(/^k2 OK/m);
  });
});
