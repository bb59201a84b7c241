/** RFC 5182 SEARCHRES on the wire, on a real PostgreSQL: SEARCH RETURN (SAVE) and `$` in the commands that take a set. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "saved@imap.test";
let infra: IsolatedInfra;
let listener: ImapListener;
let w: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(w, line);

beforeAll(async () => {
  imap = await loggedInImap("imapsearchres", USER, PASSWORD);
  ({ infra, listener, wire: w } = imap);
});

afterAll(() => imap?.close());

async function append(subject: string, flags = ""): Promise<void> {
  const raw = `Subject: ${subject}\r\n\r\nbody\r\n`;
  expect(await run(`A APPEND INBOX${flags ? ` ${flags}` : ""} {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
}

describe("SEARCHRES (RFC 5182)", () => {
  it("SEARCH RETURN (SAVE) answers no ESEARCH and keeps the result as $ for FETCH, STORE, SEARCH, COPY, EXPUNGE", async () => {
    expect(await run("C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* SEARCHRES/m);
    for (let i = 1; i <= 6; i++) await append(`m${i}`, i % 2 === 0 ? "(\\Flagged)" : "");
    expect(await run("S SELECT INBOX")).toMatch(/^S OK/m);
    // $ starts empty.
    expect(await run("F FETCH $ (UID)")).toMatch(/^F OK/);
    expect(await run("V SEARCH RETURN (SAVE) FLAGGED")).toMatch(/^V OK/);
    expect(await run("F FETCH $ (UID)")).toMatch(/^\* 2 FETCH \(UID 2\)\r\n\* 4 FETCH \(UID 4\)\r\n\* 6 FETCH \(UID 6\)\r\nF OK/);
    expect(await run("Q SEARCH $ SUBJECT m4")).toMatch(/^\* SEARCH 4\r\n/m);
    expect(await run("Q UID SEARCH UID $")).toMatch(/^\* SEARCH 2 4 6\r\n/m);
    expect(await run("C UID COPY $ Drafts")).toMatch(/^C OK \[COPYUID \d+ 2,4,6 1:3\]/m);
    expect(await run("T STORE $ +FLAGS.SILENT (\\Deleted)")).toMatch(/^T OK/m);
    expect(await run("X UID EXPUNGE $")).toMatch(/^\* 2 EXPUNGE\r\n\* 3 EXPUNGE\r\n\* 4 EXPUNGE\r\nX OK/m);
    // The expunged messages left $ with them.
    expect(await run("F FETCH $ (UID)")).toMatch(/^F OK/);
  });

  it("SAVE with MIN keeps only the minimum; a SEARCH that fails leaves $ empty; $ in a saving SEARCH is the previous result", async () => {
    expect(await run("V UID SEARCH RETURN (SAVE MIN) ALL")).toMatch(/^\* ESEARCH \(TAG "V"\) UID MIN 1\r\nV OK/m);
    expect(await run("F UID FETCH $ (UID)")).toMatch(/^\* 1 FETCH \(UID 1\)\r\nF OK/);
    expect(await run("V UID SEARCH RETURN (SAVE ALL) OR $ UID 5")).toMatch(/^\* ESEARCH \(TAG "V"\) UID ALL 1,5\r\nV OK/m);
    expect(await run("V SEARCH RETURN (SAVE) BOGUS")).toMatch(/^V BAD/m);
    expect(await run("F FETCH $ (UID)")).toMatch(/^F OK/);
    expect(await run("V SORT RETURN (SAVE) (DATE) UTF-8 ALL")).toMatch(/^V BAD SORT RETURN: unknown result option SAVE/m);
  });
});
