/**
 * RFC 5256 SORT / UID SORT on the wire: raw IMAP lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "sorter@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let wire: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(wire, line);

/** The messages, in mailbox order (sequence numbers 1..5). */
const messages: { headers: string; date: string; body: string }[] = [
  { headers: "From: Zoe <zoe@x.org>\r\nTo: bob@x.org\r\nSubject: Re: [list] Banana\r\nDate: Fri, 22 Feb 2008 02:00:00 +0200", date: "22-Feb-2008 10:00:00 +0000", body: "x".repeat(1000) },
  { headers: "From: adam@x.org\r\nTo: carl@x.org\r\nCc: zed@x.org\r\nSubject: =?utf-8?q?apple?=", date: "21-Feb-2008 23:30:00 +0000", body: "x".repeat(5000) },
  { headers: "From: bea@x.org\r\nTo: Al <al@x.org>\r\nSubject: [fwd: Banana] (fwd)\r\nDate: Fri, 22 Feb 2008 01:00:00 +0000", date: "20-Feb-2008 00:00:00 +0000", body: "x".repeat(3000) },
  { headers: "From: BEA@y.org\r\nTo: al@y.org\r\nCc: amy@x.org\r\nSubject: cherry\r\nDate: Thu, 21 Feb 2008 12:00:00 -0800", date: "22-Feb-2008 10:00:00 +0000", body: "x".repeat(7000) },
  { headers: "To: dan@x.org\r\nSubject: Fwd: APPLE\r\nDate: garbage", date: "19-Feb-2008 00:00:00 +0000", body: "x".repeat(2000) },
];

beforeAll(async () => {
  imap = await loggedInImap("imapsort", USER, PASSWORD, { watchers: true });
  ({ infra, listener, wire: wire } = imap);
  expect(await run("C CREATE sortbox")).toContain("C OK");
  for (const [i, m] of messages.entries()) {
    const raw = `${m.headers}\r\n\r\n${m.body}\r\n`;
    expect(await run(`A${i} APPEND sortbox "${m.date}" {${Buffer.byteLength(raw)}+}\r\n${raw}`)).toContain(`A${i} OK`);
  }
  expect(await run("S SELECT sortbox")).toContain("* 5 EXISTS");
});

afterAll(() => imap?.close());

const sortLine = (out: string) => /\* SORT[^\r]*\r\n/.exec(out)?.[0];

describe("SORT (RFC 5256)", () => {
  it("is advertised", async () => {
    expect(await run("c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* SORT[ \r]/m);
  });

  it.each([
    ["(ARRIVAL)", "* SORT 5 3 2 1 4\r\n"],
    ["(REVERSE ARRIVAL)", "* SORT 1 4 2 3 5\r\n"],
    ["(SIZE)", "* SORT 1 5 3 2 4\r\n"],
    ["(REVERSE SIZE)", "* SORT 4 2 3 5 1\r\n"],
    // Base subjects: banana, apple (decoded), banana, cherry, APPLE; ties keep mailbox order.
    ["(SUBJECT)", "* SORT 2 5 1 3 4\r\n"],
    ["(SUBJECT REVERSE SIZE)", "* SORT 2 5 3 1 4\r\n"],
    // Sent dates in UTC: 1 = 00:00 22nd, 2 = internal 23:30 21st, 3 = 01:00 22nd, 4 = 20:00 21st, 5 = internal 19th.
    ["(DATE)", "* SORT 5 4 2 1 3\r\n"],
    ["(REVERSE DATE)", "* SORT 3 1 2 4 5\r\n"],
    // From mailboxes: zoe, adam, bea, BEA, none.
    ["(FROM)", "* SORT 5 2 3 4 1\r\n"],
    ["(TO)", "* SORT 3 4 1 2 5\r\n"],
    ["(CC)", "* SORT 1 3 5 4 2\r\n"],
    ["(REVERSE CC ARRIVAL)", "* SORT 2 4 5 3 1\r\n"],
  ])("SORT %s UTF-8 ALL", async (criteria, expected) => {
    expect(sortLine(await run(`s SORT ${criteria} UTF-8 ALL`))).toBe(expected);
  });

  it("applies the search criteria and answers UIDs for UID SORT", async () => {
    const fetched = await run("f FETCH 1:5 (UID)");
    const uids = [...fetched.matchAll(/\* (\d+) FETCH \(UID (\d+)\)/g)].map((m) => Number(m[2]));
    expect(sortLine(await run("s SORT (SIZE) US-ASCII LARGER 2500 NOT FROM bea"))).toBe("* SORT 2\r\n");
    expect(sortLine(await run("u UID SORT (REVERSE SIZE) utf-8 2:4"))).toBe(`* SORT ${uids[3]} ${uids[1]} ${uids[2]}\r\n`);
    expect(sortLine(await run("n SORT (SIZE) UTF-8 SUBJECT nothing-like-this"))).toBe("* SORT\r\n");
  });

  it("refuses unknown charsets with BADCHARSET and malformed criteria with BAD", async () => {
    expect(await run("b1 SORT (SIZE) KOI8-R ALL")).toMatch(/^b1 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
    expect(await run("b2 SORT (COLOR) UTF-8 ALL")).toMatch(/^b2 BAD /m);
    expect(await run("b3 SORT (REVERSE) UTF-8 ALL")).toMatch(/^b3 BAD /m);
    expect(await run("b4 SORT () UTF-8 ALL")).toMatch(/^b4 BAD /m);
    expect(await run("b5 SORT (SIZE) UTF-8")).toMatch(/^b5 BAD /m);
    expect(await run("b6 SORT SIZE UTF-8 ALL")).toMatch(/^b6 BAD /m);
  });
});

describe("DISPLAYFROM, DISPLAYTO (RFC 5957)", () => {
  it("SORT=DISPLAY is advertised", async () => {
    expect(await run("c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* SORT=DISPLAY[ \r]/m);
  });

  it.each([
    // Display names: Zoe, adam@x.org (no name: the addr-spec), bea@x.org, BEA@y.org, none.
    ["(DISPLAYFROM)", "* SORT 5 2 3 4 1\r\n"],
    ["(REVERSE DISPLAYFROM)", "* SORT 1 4 3 2 5\r\n"],
    // To: bob@x.org, carl@x.org, Al, al@y.org, dan@x.org.
    ["(DISPLAYTO)", "* SORT 3 4 1 2 5\r\n"],
  ])("SORT %s UTF-8 ALL", async (criteria, expected) => {
    expect(sortLine(await run(`s SORT ${criteria} UTF-8 ALL`))).toBe(expected);
  });
});

describe("THREAD=ORDEREDSUBJECT (RFC 5256)", () => {
  it("is advertised", async () => {
    expect(await run("c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* THREAD=ORDEREDSUBJECT[ \r]/m);
  });

  it("threads by base subject, in sent-date order, for THREAD and UID THREAD", async () => {
    // banana: 1 (00:00 22nd), 3 (01:00 22nd); apple: 2 (internal 23:30 21st), 5 (internal 19th); cherry: 4 (20:00 21st).
    expect(await run("t THREAD ORDEREDSUBJECT UTF-8 ALL")).toContain("* THREAD (5 2)(4)(1 3)\r\n");
    const fetched = await run("f FETCH 1:5 (UID)");
    const uids = [...fetched.matchAll(/\* (\d+) FETCH \(UID (\d+)\)/g)].map((m) => Number(m[2]));
    expect(await run("u UID THREAD ORDEREDSUBJECT US-ASCII 1:4")).toContain(`* THREAD (${uids[3]})(${uids[1]})(${uids[0]} ${uids[2]})\r\n`);
    expect(await run("n THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing-like-this")).toContain("* THREAD\r\n");
  });

  it("refuses other algorithms with BAD and unknown charsets with BADCHARSET", async () => {
    expect(await run("b1 THREAD JWZ UTF-8 ALL")).toMatch(/^b1 BAD /m);
    expect(await run("b2 THREAD ORDEREDSUBJECT KOI8-R ALL")).toMatch(/^b2 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
    expect(await run("b3 THREAD ORDEREDSUBJECT UTF-8")).toMatch(/^b3 BAD /m);
  });
});
