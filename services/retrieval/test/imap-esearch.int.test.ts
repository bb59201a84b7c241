/**
 * RFC 4731 ESEARCH on the wire: SEARCH / UID SEARCH RETURN (MIN MAX ALL COUNT), the
 * `* ESEARCH (TAG "x")` correlator, MODSEQ with CONDSTORE (RFC 7162 §3.1.5) and BAD for
 * unknown result options. Raw IMAP lines against a real listener on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "es@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let wire: LineWire;
let imap: LoggedInImap;

const message = (subject: string) => `From: bea@example.org\r\nTo: es@imap.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`;
const appendLine = (tag: string, subject: string) => {
  const m = message(subject);
  return `${tag} APPEND INBOX {${Buffer.byteLength(m)}+}\r\n${m}`;
};

const run = (line: string) => runOn(wire, line);

let uids: number[] = [];

beforeAll(async () => {
  imap = await loggedInImap("imapes", USER, PASSWORD, { watchers: true });
  ({ infra, listener, wire: wire } = imap);
  for (let i = 1; i <= 6; i++) expect(await run(appendLine(`a${i}`, `m${i}`))).toContain(`a${i} OK`);
  await run("s SELECT INBOX");
  // Expunge message 4, so UIDs have a gap while sequence numbers do not.
  await run("d1 STORE 4 +FLAGS.SILENT (\\Deleted)");
  await run("d2 EXPUNGE");
  const f = await run("f FETCH 1:* UID");
  uids = [...f.matchAll(/FETCH \(UID (\d+)\)/g)].map((m) => Number(m[1]));
});

afterAll(() => imap?.close());

describe("CONDSTORE enabled by a command (RFC 7162 §3.1)", () => {
  it("announces HIGHESTMODSEQ once, on the first CONDSTORE-enabling command after SELECT", async () => {
    const other = await LineWire.open(listener.port);
    try {
      const say = async (line: string) => {
        const tag = line.split(" ")[0]!;
        other.drain();
        other.write(line + "\r\n");
        return other.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
      };
      await other.until(/^\* OK[^\r]*\r\n/);
      await say(`L LOGIN ${USER} "${PASSWORD}"`);
      const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(await say("s EXAMINE INBOX"))?.[1]);
      expect(await say("h1 FETCH 1 (FLAGS)")).not.toContain("HIGHESTMODSEQ");
      const first = await say("h2 FETCH 1 (MODSEQ)");
      expect(first).toMatch(new RegExp(`^\\* OK \\[HIGHESTMODSEQ ${highest}\\][^\\r]*\\r\\n`));
      expect(first).toMatch(/^\* 1 FETCH \(MODSEQ \(\d+\)\)\r\n/m);
      expect(await say("h3 SEARCH RETURN (MIN) MODSEQ 1")).not.toContain("HIGHESTMODSEQ");
    } finally {
      other.close();
    }
  });
});

describe("ESEARCH (RFC 4731)", () => {
  it("is advertised", async () => {
    expect(await run("c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* ESEARCH[ \r]/m);
  });

  it("answers SEARCH RETURN with sequence numbers and the command's tag", async () => {
    expect(uids).toHaveLength(5);
    expect(await run("t1 SEARCH RETURN (ALL) ALL")).toBe('* ESEARCH (TAG "t1") ALL 1:5\r\nt1 OK SEARCH completed\r\n');
    expect(await run("t2 SEARCH RETURN () ALL")).toContain('* ESEARCH (TAG "t2") ALL 1:5\r\n');
    expect(await run("t3 SEARCH RETURN (MIN MAX COUNT) 2:4")).toContain('* ESEARCH (TAG "t3") MIN 2 MAX 4 COUNT 3\r\n');
  });

  it("answers UID SEARCH RETURN with UIDs and the UID marker", async () => {
    const [u1, u2, u3, u5, u6] = uids as [number, number, number, number, number];
    const all = await run("u1 UID SEARCH RETURN (ALL) ALL");
    expect(all).toContain(`* ESEARCH (TAG "u1") UID ALL ${u1}:${u3},${u5}:${u6}\r\n`);
    expect(all).not.toMatch(/^\* SEARCH/m);
    await run("u2 STORE 2,4 +FLAGS.SILENT (\\Seen)");
    expect(await run("u3 UID SEARCH RETURN (MIN MAX COUNT ALL) SEEN")).toContain(`* ESEARCH (TAG "u3") UID MIN ${u2} MAX ${u5} ALL ${u2},${u5} COUNT 2\r\n`);
  });

  it("leaves out MIN, MAX and ALL when nothing matched, keeps COUNT 0", async () => {
    expect(await run("n1 SEARCH RETURN (MIN MAX ALL) 1000")).toContain('* ESEARCH (TAG "n1")\r\nn1 OK');
    expect(await run("n2 UID SEARCH RETURN (COUNT) 1000")).toContain('* ESEARCH (TAG "n2") UID COUNT 0\r\nn2 OK');
  });

  it("adds MODSEQ of the returned messages when the criteria use MODSEQ (RFC 7162 §3.1.5)", async () => {
    const out = await run("m1 FETCH 1:5 (MODSEQ)");
    const modseq = [...out.matchAll(/MODSEQ \((\d+)\)/g)].map((m) => Number(m[1]));
    expect(await run("m2 SEARCH RETURN (MIN) MODSEQ 1")).toContain(`* ESEARCH (TAG "m2") MIN 1 MODSEQ ${modseq[0]}\r\n`);
    expect(await run("m3 SEARCH RETURN (COUNT) MODSEQ 1")).toContain(`* ESEARCH (TAG "m3") COUNT 5 MODSEQ ${Math.max(...modseq)}\r\n`);
  });

  it("refuses an unknown result option with BAD and keeps plain SEARCH as it was", async () => {
    expect(await run("b1 SEARCH RETURN (FROB) ALL")).toMatch(/^b1 BAD [^\r]*unknown result option/m);
    expect(await run("b2 SEARCH 1:2")).toBe("* SEARCH 1 2\r\nb2 OK SEARCH completed\r\n");
  });
});

describe("WITHIN (RFC 5032)", () => {
  it("is advertised", async () => {
    expect(await run("w0 CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* WITHIN[ \r]/m);
  });

  it("OLDER and YOUNGER compare the internal date with now minus n seconds", async () => {
    const m = message("old one");
    expect(await run("w1 CREATE within")).toContain("w1 OK");
    expect(await run(`w2 APPEND within "01-Jan-2020 00:00:00 +0000" {${Buffer.byteLength(m)}+}\r\n${m}`)).toContain("w2 OK");
    expect(await run(appendLine("w3", "new one").replace("INBOX", "within"))).toContain("w3 OK");
    expect(await run("w4 SELECT within")).toContain("* 2 EXISTS");
    expect(await run("w5 SEARCH OLDER 86400")).toContain("* SEARCH 1\r\n");
    expect(await run("w6 SEARCH YOUNGER 86400")).toContain("* SEARCH 2\r\n");
    // With a text key the store filters in memory: the same answers.
    expect(await run("w7 SEARCH OLDER 86400 TEXT hello")).toContain("* SEARCH 1\r\n");
    expect(await run("w8 SEARCH RETURN (COUNT) OR OLDER 3600 YOUNGER 3600")).toContain('* ESEARCH (TAG "w8") COUNT 2\r\n');
    expect(await run("w9 SEARCH YOUNGER 0")).toMatch(/^w9 BAD /m);
    await run("w10 SELECT INBOX");
  });
});
