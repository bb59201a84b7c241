/**
 * How the session answers a parser's refusal (syntax/arguments.ts ArgumentError): BAD at
 * once, NO with its response code like a handler's NO.
 */
import { describe, expect, it } from "vitest";
import { CommandFramer, ImapSession, type FramedLine, type ImapStorage } from "../src/index.js";

function selectedSession() {
  const out: string[] = [];
  const s = new ImapSession({
    hostname: "test",
    storage: {} as ImapStorage,
    secure: true,
    tlsAvailable: false,
    io: { write: async (b: Buffer) => void out.push(b.toString()), nextLine: async () => undefined, lineAvailable: async () => undefined },
  });
  s.user = { id: 1, address: "u@test" };
  s.setSelected({ mailboxId: 1, name: "INBOX", readOnly: false, uidValidity: 1, uids: [1], knownModseq: 1, recent: new Set(), keywords: [] });
  return { s, out };
}

function line(text: string): FramedLine {
  const l = new CommandFramer().push(Buffer.from(text)).find((e) => e.kind === "line");
  if (!l || l.kind !== "line") throw new Error("no line framed");
  return l.line;
}

describe("the session's answer to refused arguments", () => {
  it.each([
    ["a SEARCH CHARSET KOI8-R ALL", "a NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R is not supported\r\n"],
    ["b SEARCH FROB", "b BAD SEARCH: unknown key FROB\r\n"],
    ["c FETCH 1 (FROB)", "c BAD unknown FETCH data item FROB\r\n"],
    ["d THREAD REFERENCES KOI8-R ALL", "d NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R is not supported\r\n"],
  ])("%j is answered %j", async (command, answer) => {
    const { s, out } = selectedSession();
    await s.handleLine(line(`${command}\r\n`));
    expect(out.join("")).toBe(answer);
  });
});
