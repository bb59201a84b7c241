/**
 * APPEND's argument grammar (RFC 3501 §6.3.11, RFC 3502 MULTIAPPEND): which messages, flags
 * and dates reach the store, in one call, and what the tagged answer says. The store here
 * only records (the protocol layer has no I/O); services/retrieval's
 * imap-multiappend.int.test.ts drives the same over the wire against PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import { CommandFramer, ImapSession, type AppendMessage, type FramedLine, type ImapStorage } from "../src/index.js";

function sessionWith(answer: (messages: readonly AppendMessage[]) => { uidValidity: number; uids: number[] }) {
  const calls: AppendMessage[][] = [];
  const out: string[] = [];
  const storage = {
    append: async (_user: unknown, _box: string, messages: readonly AppendMessage[]) => {
      calls.push([...messages]);
      return answer(messages);
    },
  } as unknown as ImapStorage;
  const session = new ImapSession({
    hostname: "test",
    storage,
    secure: true,
    tlsAvailable: false,
    io: { write: async (b: Buffer) => void out.push(b.toString()), nextLine: async () => undefined, lineAvailable: async () => undefined },
  });
  session.state = "authenticated";
  session.user = { id: 1, address: "u@test" };
  return { session, calls, out };
}

function line(text: string): FramedLine {
  const events = new CommandFramer().push(Buffer.from(text));
  const l = events.find((e) => e.kind === "line");
  if (!l || l.kind !== "line") throw new Error("no line framed");
  return l.line;
}

const lit = (s: string) => `{${s.length}+}\r\n${s}`;

describe("APPEND / MULTIAPPEND arguments", () => {
  it("passes every message with its own flags and date to the store in one call, answering the UID set", async () => {
    const { session, calls, out } = sessionWith((m) => ({ uidValidity: 7, uids: m.map((_, i) => 10 + i) }));
    await session.handleLine(line(`a APPEND INBOX (\\Seen) ${lit("A\r\n\r\na\r\n")} "24-Mar-2007 23:00:00 +0200" ${lit("B\r\n\r\nb\r\n")} ${lit("C\r\n\r\nc\r\n")}\r\n`));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((m) => m.raw.toString())).toEqual(["A\r\n\r\na\r\n", "B\r\n\r\nb\r\n", "C\r\n\r\nc\r\n"]);
    expect(calls[0]!.map((m) => m.flags)).toEqual([["\\Seen"], [], []]);
    expect(calls[0]![1]!.internalDate?.toISOString()).toBe("2007-03-24T21:00:00.000Z");
    expect(calls[0]![0]!.internalDate).toBeUndefined();
    expect(out.join("")).toContain("a OK [APPENDUID 7 10:12] APPEND completed");
  });

  it("refuses the whole command, storing nothing, when any message is empty or a group is malformed", async () => {
    const { session, calls, out } = sessionWith(() => ({ uidValidity: 1, uids: [1] }));
    await session.handleLine(line(`e APPEND INBOX ${lit("x\r\n")} {0+}\r\n\r\n`));
    await session.handleLine(line(`f APPEND INBOX ${lit("x\r\n")} (\\Seen)\r\n`));
    await session.handleLine(line(`g APPEND INBOX ${lit("x\r\n")} "no date" ${lit("y\r\n")}\r\n`));
    expect(calls).toHaveLength(0);
    expect(out.join("")).toMatch(/e NO [^\r]*\r\nf BAD [^\r]*\r\ng BAD /);
  });

  it("advertises MULTIAPPEND once authenticated", () => {
    const { session } = sessionWith(() => ({ uidValidity: 1, uids: [1] }));
    expect(session.capabilities()).toContain("MULTIAPPEND");
  });
});

describe("APPENDLIMIT (RFC 7889)", () => {
  function limited(limit: number) {
    const s = sessionWith((m) => ({ uidValidity: 1, uids: m.map((_, i) => i + 1) }));
    (s.session.opts as { appendLimit?: number }).appendLimit = limit;
    return s;
  }

  it("is advertised with the session's limit, and not without one", () => {
    expect(limited(5000).session.capabilities()).toContain("APPENDLIMIT=5000");
    expect(sessionWith(() => ({ uidValidity: 1, uids: [] })).session.capabilities().some((c) => c.startsWith("APPENDLIMIT"))).toBe(false);
  });

  it("refuses with NO [TOOBIG] an APPEND where any message is over it, storing none", async () => {
    const { session, calls, out } = limited(10);
    await session.handleLine(line(`t APPEND INBOX ${lit("small\r\n")} ${lit("far too large\r\n")}\r\n`));
    expect(calls).toHaveLength(0);
    expect(out.join("")).toMatch(/^t NO \[TOOBIG\] /m);
  });
});
