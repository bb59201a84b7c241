/**
 * RFC 8474 OBJECTID on the wire, on a real PostgreSQL: MAILBOXID from CREATE, SELECT and
 * STATUS, kept by RENAME; EMAILID kept by COPY and MOVE; THREADID NIL; SEARCH EMAILID.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "ids@imap.test";
let infra: IsolatedInfra;
let listener: ImapListener;
let w: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(w, line);

beforeAll(async () => {
  imap = await loggedInImap("imapobjectid", USER, PASSWORD);
  ({ infra, listener, wire: w } = imap);
});

afterAll(() => imap?.close());

const id = (re: RegExp, s: string) => re.exec(s)?.[1];

describe("OBJECTID (RFC 8474)", () => {
  it("MAILBOXID: CREATE's OK, SELECT's untagged OK and STATUS agree, RENAME keeps it, a new mailbox of the old name gets another", async () => {
    expect(await run("C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* OBJECTID /m);
    const created = id(/^C OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\]/m, await run("C CREATE Projects"));
    expect(created).toMatch(/^F\d+$/);
    expect(id(/^\* OK \[MAILBOXID \(([^)]+)\)\]/m, await run("S SELECT Projects"))).toBe(created);
    expect(await run("R RENAME Projects Archive/Projects")).toMatch(/^R OK/m);
    expect(await run("S STATUS Archive/Projects (MAILBOXID MESSAGES)")).toMatch(new RegExp(`^\\* STATUS "Archive/Projects" \\(MAILBOXID \\(${created}\\) MESSAGES 0\\)`, "m"));
    const again = id(/^C OK \[MAILBOXID \(([^)]+)\)\]/m, await run("C CREATE Projects"));
    expect(again).toMatch(/^F\d+$/);
    expect(again).not.toBe(created);
  });

  it("EMAILID: the same after COPY and MOVE; THREADID is NIL; SEARCH EMAILID finds the message", async () => {
    const raw = "Subject: kept\r\n\r\nsame content\r\n";
    expect(await run(`A APPEND INBOX {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
    expect(await run("S SELECT INBOX")).toMatch(/^S OK/m);
    const fetched = await run("F FETCH 1 (EMAILID THREADID)");
    const emailId = id(/EMAILID \((M[0-9a-f]{64})\)/, fetched);
    expect(emailId).toBeDefined();
    expect(fetched).toMatch(/THREADID NIL/);
    expect(await run("C COPY 1 Drafts")).toMatch(/^C OK/m);
    expect(await run("M MOVE 1 Trash")).toMatch(/^M OK/m);
    for (const box of ["Drafts", "Trash"]) {
      expect(await run(`S SELECT ${box}`)).toMatch(/^S OK/m);
      expect(id(/EMAILID \(([^)]+)\)/, await run("F UID FETCH 1:* (EMAILID)"))).toBe(emailId);
      expect(await run(`Q SEARCH EMAILID ${emailId}`)).toMatch(/^\* SEARCH 1\r\n/m);
    }
    expect(await run("Q SEARCH EMAILID Mnot-ours")).toMatch(/^\* SEARCH\r\n/m);
    expect(await run("Q SEARCH THREADID T1")).toMatch(/^\* SEARCH\r\n/m);
    expect(await run('Q SEARCH EMAILID "bad id"')).toMatch(/^Q BAD SEARCH EMAILID: bad id is not an object id/m);
  });
});
