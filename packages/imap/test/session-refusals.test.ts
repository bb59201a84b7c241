/**
 * How the session answers a parser's refusal (syntax/arguments.ts ArgumentError): BAD at
 * once, NO with its response code like a handler's NO.
 */
import { describe, expect, it } from "vitest";
import { framedLine, testSession } from "./command-line.js";

describe("the session's answer to refused arguments", () => {
  it.each([
    ["a SEARCH CHARSET KOI8-R ALL", "a NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R is not supported\r\n"],
    ["b SEARCH FROB", "b BAD SEARCH: unknown key FROB\r\n"],
    ["c FETCH 1 (FROB)", "c BAD unknown FETCH data item FROB\r\n"],
    ["d THREAD REFERENCES KOI8-R ALL", "d NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R is not supported\r\n"],
  ])("%j is answered %j", async (command, answer) => {
    const { s, out } = testSession();
    s.setSelected({ mailboxId: 1, name: "INBOX", readOnly: false, uidValidity: 1, uids: [1], knownModseq: 1, recent: new Set(), keywords: [] });
    await s.handleLine(framedLine(`${command}\r\n`));
    expect(out.join("")).toBe(answer);
  });
});
