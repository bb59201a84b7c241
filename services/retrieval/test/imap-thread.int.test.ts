/**
 * RFC 5256 THREAD=REFERENCES on the wire: raw IMAP lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "threader@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let wire: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(wire, line);

async function append(n: number, headers: string, date: string): Promise<void> {
  const raw = `${headers}\r\n\r\nbody, with a decoy line:\r\nReferences: <decoy@b>\r\n`;
  expect(await run(`A${n} APPEND threadbox "${date}" {${Buffer.byteLength(raw)}+}\r\n${raw}`)).toContain(`A${n} OK`);
}

const threadLine = (out: string) => /\* THREAD[^\r]*\r\n/.exec(out)?.[0];

beforeAll(async () => {
  imap = await loggedInImap("imapthread", USER, PASSWORD, { watchers: true });
  ({ infra, listener, wire: wire } = imap);
  expect(await run("C CREATE threadbox")).toContain("C OK");
  // 1 starts a thread; 2 answers it (In-Reply-To); 3 answers 2 with a folded References naming 1 and 2;
  // 4 answers a message not in the mailbox; 5 shares 4's subject without any link; 6 is alone.
  await append(1, "Message-ID: <1@t>\r\nSubject: plans", "22-Feb-2008 10:00:00 +0000");
  await append(2, "Message-ID: <2@t>\r\nIn-Reply-To: <1@t>\r\nSubject: Re: plans\r\nDate: Fri, 22 Feb 2008 12:00:00 +0000", "22-Feb-2008 09:00:00 +0000");
  await append(3, "Message-ID: <3@t>\r\nReferences: <1@t>\r\n <2@t>\r\nSubject: Re: plans", "22-Feb-2008 11:00:00 +0000");
  await append(4, "Message-ID: <4@t>\r\nReferences: <gone@t>\r\nSubject: Re: lunch", "21-Feb-2008 10:00:00 +0000");
  await append(5, "Message-ID: <5@t>\r\nSubject: lunch", "23-Feb-2008 10:00:00 +0000");
  await append(6, "Message-ID: <6@t>\r\nSubject: other", "20-Feb-2008 10:00:00 +0000");
  expect(await run("S SELECT threadbox")).toContain("* 6 EXISTS");
});

afterAll(() => imap?.close());

describe("THREAD=REFERENCES (RFC 5256 §2.2)", () => {
  it("is advertised", async () => {
    expect(await run("c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* THREAD=REFERENCES[ \r]/m);
  });

  it("threads by References and In-Reply-To, merges by subject, orders by sent date", async () => {
    // 1 -> 2 -> 3 by the links; 4's parent is not here, and 5 ("lunch") is no reply, so 4 ("Re: lunch")
    // merges under it; threads by the sent date of their first message: 6 (20th), 1 (22nd), 5 (23rd).
    expect(threadLine(await run("t THREAD REFERENCES UTF-8 ALL"))).toBe("* THREAD (6)(1 2 3)(5 4)\r\n");
  });

  it("answers UIDs for UID THREAD and threads only the messages the criteria match", async () => {
    const fetched = await run("f FETCH 1:6 (UID)");
    const uids = [...fetched.matchAll(/\* (\d+) FETCH \(UID (\d+)\)/g)].map((m) => Number(m[2]));
    // Without 2, 3 still hangs from 1 through its References.
    expect(threadLine(await run("u UID THREAD REFERENCES US-ASCII 1,3:6"))).toBe(`* THREAD (${uids[5]})(${uids[0]} ${uids[2]})(${uids[4]} ${uids[3]})\r\n`);
    expect(threadLine(await run("n THREAD REFERENCES UTF-8 SUBJECT nothing-like-this"))).toBe("* THREAD\r\n");
  });

  it("refuses unknown charsets with BADCHARSET and missing criteria with BAD", async () => {
    expect(await run("b1 THREAD REFERENCES KOI8-R ALL")).toMatch(/^b1 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/m);
    expect(await run("b2 THREAD REFERENCES UTF-8")).toMatch(/^b2 BAD /m);
  });
});
