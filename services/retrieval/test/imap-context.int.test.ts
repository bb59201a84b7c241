/**
 * RFC 5267 ESORT, CONTEXT=SEARCH and CONTEXT=SORT on the wire: raw IMAP lines against a real
 * listener on a real PostgreSQL, two sessions on one mailbox.
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
const USER = "contexts@imap.test";

let infra: IsolatedInfra;
let store: MailStore;
let watchers: MailboxWatchers;
let accountId: number;
let listener: ImapListener;
let a: LineWire;
let b: LineWire;

async function run(wire: LineWire, line: string): Promise<string> {
  const tag = line.split(" ")[0]!;
  wire.drain();
  wire.write(line + "\r\n");
  return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
}

const esearch = (out: string) => [...out.matchAll(/^\* ESEARCH [^\r]*/gm)].map((m) => m[0]);

async function append(n: number, subject: string, date: string): Promise<void> {
  const raw = `Subject: ${subject}\r\nMessage-ID: <${n}@ctx>\r\n\r\nbody ${n}\r\n`;
  expect(await run(a, `A${n} APPEND ctxbox "${date}" {${Buffer.byteLength(raw)}+}\r\n${raw}`)).toContain(`A${n} OK`);
}

beforeAll(async () => {
  infra = await isolatedInfra("imapcontext");
  await addDomain(infra.pool, "imap.test");
  accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  store = new MailStore({ pool: infra.pool });
  watchers = new MailboxWatchers();
  listener = await startTestImapListener({ infra, mail: store, watchers, hostname: "imap.test", name: "imap-context-test" });
  a = await LineWire.open(listener.port);
  b = await LineWire.open(listener.port);
  for (const w of [a, b]) {
    await w.until(/^\* OK[^\r]*\r\n/);
    expect(await run(w, `L LOGIN ${USER} "${PASSWORD}"`)).toContain("L OK");
  }
  expect(await run(a, "C CREATE ctxbox")).toContain("C OK");
  // Arrival order 3, 1, 2, 4 (internal dates); subjects d, b, c, a.
  await append(1, "d", "22-Feb-2008 10:00:00 +0000");
  await append(2, "b", "20-Feb-2008 10:00:00 +0000");
  await append(3, "c", "21-Feb-2008 10:00:00 +0000");
  await append(4, "a", "23-Feb-2008 10:00:00 +0000");
  expect(await run(a, "S SELECT ctxbox")).toContain("* 4 EXISTS");
  expect(await run(b, "S SELECT ctxbox")).toContain("* 4 EXISTS");
});

afterAll(async () => {
  a?.close();
  b?.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("advertised", () => {
  it("lists ESORT, CONTEXT=SEARCH and CONTEXT=SORT", async () => {
    const caps = /^\* CAPABILITY [^\r]*/m.exec(await run(a, "c CAPABILITY"))![0].split(" ");
    expect(caps).toEqual(expect.arrayContaining(["ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT"]));
  });
});

describe("ESORT (RFC 5267 §3)", () => {
  it("answers SORT RETURN with ESEARCH: ALL in sort order, MIN and MAX the lowest and highest, COUNT", async () => {
    expect(esearch(await run(a, "s1 SORT RETURN (MIN MAX ALL COUNT) (ARRIVAL) UTF-8 ALL"))).toEqual(['* ESEARCH (TAG "s1") MIN 1 MAX 4 ALL 2:3,1,4 COUNT 4']);
    expect(esearch(await run(a, "s2 SORT RETURN () (SUBJECT) UTF-8 ALL"))).toEqual(['* ESEARCH (TAG "s2") ALL 4,2:3,1']);
  });

  it("answers PARTIAL with the positions asked, in sort order, for UID SORT too", async () => {
    expect(esearch(await run(a, "p1 SORT RETURN (PARTIAL 2:3) (REVERSE SUBJECT) UTF-8 ALL"))).toEqual(['* ESEARCH (TAG "p1") PARTIAL (2:3 3,2)']);
    expect(esearch(await run(a, "p2 SORT RETURN (PARTIAL 5:9) (SUBJECT) UTF-8 ALL"))).toEqual(['* ESEARCH (TAG "p2") PARTIAL (5:9 NIL)']);
    const fetched = await run(a, "f FETCH 1:4 (UID)");
    const uids = [...fetched.matchAll(/\* (\d+) FETCH \(UID (\d+)\)/g)].map((m) => Number(m[2]));
    expect(esearch(await run(a, "p3 UID SORT RETURN (PARTIAL 1:1) (SUBJECT) UTF-8 ALL"))).toEqual([`* ESEARCH (TAG "p3") UID PARTIAL (1:1 ${uids[3]})`]);
  });

  it("refuses a bad PARTIAL range and PARTIAL with ALL with BAD", async () => {
    expect(await run(a, "b1 SORT RETURN (PARTIAL 1:*) (ARRIVAL) UTF-8 ALL")).toMatch(/^b1 BAD SORT RETURN PARTIAL needs a range/m);
    expect(await run(a, "b2 SEARCH RETURN (PARTIAL 1) ALL")).toMatch(/^b2 BAD SEARCH RETURN PARTIAL needs a range/m);
    expect(await run(a, "b3 SEARCH RETURN (ALL PARTIAL 1:2) ALL")).toMatch(/^b3 BAD SEARCH RETURN: PARTIAL and ALL exclude each other/m);
  });
});

describe("CONTEXT=SEARCH (RFC 5267 §4)", () => {
  it("keeps an UPDATE result current: another session's flag changes arrive as ADDTO / REMOVEFROM", async () => {
    // Nothing is seen yet: ALL is left out (RFC 4731 §3.1).
    expect(esearch(await run(a, "u1 SEARCH RETURN (UPDATE ALL) SEEN"))).toEqual(['* ESEARCH (TAG "u1")']);
    expect(await run(b, "t1 STORE 2,3 +FLAGS (\\Seen)")).toContain("t1 OK");
    expect(esearch(await run(a, "n1 NOOP"))).toEqual(['* ESEARCH (TAG "u1") ADDTO (0 2:3)']);
    expect(await run(b, "t2 STORE 2 -FLAGS (\\Seen)")).toContain("t2 OK");
    expect(esearch(await run(a, "n2 NOOP"))).toEqual(['* ESEARCH (TAG "u1") REMOVEFROM (0 2)']);
    // Its own STORE reports to the context in the same answer.
    expect(esearch(await run(a, "t3 STORE 1 +FLAGS (\\Seen)"))).toEqual(['* ESEARCH (TAG "u1") ADDTO (0 1)']);
  });

  it("says REMOVEFROM before the EXPUNGE that renumbers, and ADDTO after EXISTS for new mail", async () => {
    expect(await run(a, "d1 STORE 1 +FLAGS (\\Deleted)")).toContain("d1 OK");
    const out = await run(a, "x1 EXPUNGE");
    expect(out.indexOf('* ESEARCH (TAG "u1") REMOVEFROM (0 1)')).toBeGreaterThanOrEqual(0);
    expect(out.indexOf('* ESEARCH (TAG "u1") REMOVEFROM (0 1)')).toBeLessThan(out.indexOf("* 1 EXPUNGE"));
    const raw = "Subject: e\r\n\r\nnew\r\n";
    const appended = await run(a, `A5 APPEND ctxbox (\\Seen) {${raw.length}+}\r\n${raw}`);
    expect(appended.indexOf("* 4 EXISTS")).toBeLessThan(appended.indexOf('* ESEARCH (TAG "u1") ADDTO (0 4)'));
    expect(appended).toContain('* ESEARCH (TAG "u1") ADDTO (0 4)');
    expect(esearch(await run(b, "n3 NOOP"))).toEqual([]);
  });

  it("ends a context with CANCELUPDATE, and refuses an unknown one", async () => {
    expect(await run(a, 'c1 CANCELUPDATE "u1"')).toContain("c1 OK");
    expect(esearch(await run(a, "t4 STORE 1 -FLAGS (\\Seen)"))).toEqual([]);
    expect(await run(a, 'c2 CANCELUPDATE "u1"')).toMatch(/^c2 BAD CANCELUPDATE: no context is kept for "u1"/m);
    expect(await run(a, "c3 CANCELUPDATE")).toMatch(/^c3 BAD /m);
  });
});

describe("CONTEXT=SORT (RFC 5267 §4)", () => {
  it("reports additions to a sorted context at their positions, per message", async () => {
    // Now: seq 1 b (20th), 2 c (21st), 3 a (23rd), 4 e (today); unseen: 1, 3 (2 is seen, 4 was appended \Seen).
    expect(await run(a, "r1 STORE 1:4 -FLAGS (\\Seen)")).toContain("r1 OK");
    expect(esearch(await run(a, "o1 SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 FLAGGED"))).toEqual(['* ESEARCH (TAG "o1")']);
    expect(await run(b, "t5 STORE 1,3 +FLAGS (\\Flagged)")).toContain("t5 OK");
    expect(esearch(await run(a, "n4 NOOP"))).toEqual(['* ESEARCH (TAG "o1") ADDTO (1 3) ADDTO (2 1)']);
    expect(await run(b, "t6 STORE 2 +FLAGS (\\Flagged)")).toContain("t6 OK");
    expect(esearch(await run(a, "n5 NOOP"))).toEqual(['* ESEARCH (TAG "o1") ADDTO (3 2)']);
    expect(await run(b, "t7 STORE 1 -FLAGS (\\Flagged)")).toContain("t7 OK");
    expect(esearch(await run(a, "n6 NOOP"))).toEqual(['* ESEARCH (TAG "o1") REMOVEFROM (2 1)']);
  });

  it("ends when the mailbox is no longer selected", async () => {
    expect(await run(a, "s SELECT ctxbox")).toContain("s OK");
    expect(await run(a, 'c4 CANCELUPDATE "o1"')).toMatch(/^c4 BAD /m);
  });
});

describe("CONTEXT=SEARCH while idling (RFC 5267 §4.3, RFC 2177)", () => {
  it("pushes ADDTO as soon as another session changes a flag", async () => {
    expect(esearch(await run(a, "u2 SEARCH RETURN (UPDATE) ANSWERED"))).toEqual(['* ESEARCH (TAG "u2")']);
    a.drain();
    a.write("i IDLE\r\n");
    await a.until(/^\+ [^\r]*\r\n/m, 5_000);
    expect(await run(b, "t8 STORE 2 +FLAGS (\\Answered)")).toContain("t8 OK");
    // The notification a real deployment gets from RabbitMQ: here, straight to the watchers.
    watchers.changed((await store.findMailbox(accountId, "ctxbox"))!.id);
    expect(await a.until(/^\* ESEARCH [^\r]*\r\n/m, 5_000)).toContain('* ESEARCH (TAG "u2") ADDTO (0 2)');
    a.write("DONE\r\n");
    await a.until(/^i OK[^\r]*\r\n/m, 5_000);
  });
});
