/**
 * RFC 7162 §3.2 QRESYNC on the wire: raw IMAP lines against a real listener on a real
 * PostgreSQL. One session changes the mailbox while another is away; the other comes
 * back with SELECT … (QRESYNC …) or UID FETCH … (CHANGEDSINCE … VANISHED) and must learn
 * exactly what changed and what vanished.
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
const USER = "resync@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
const wires: LineWire[] = [];

async function run(wire: LineWire, line: string): Promise<string> {
  const tag = line.split(" ")[0]!;
  wire.drain();
  wire.write(line + "\r\n");
  return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
}

async function session(): Promise<LineWire> {
  const w = await LineWire.open(listener.port);
  wires.push(w);
  await w.until(/^\* OK[^\r]*\r\n/);
  expect(await run(w, `L LOGIN ${USER} "${PASSWORD}"`)).toContain("L OK");
  return w;
}

async function append(wire: LineWire, box: string, subject: string): Promise<void> {
  const raw = `Subject: ${subject}\r\n\r\nbody\r\n`;
  expect(await run(wire, `A APPEND ${box} {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
}

const num = (re: RegExp, s: string) => Number(re.exec(s)?.[1]);

beforeAll(async () => {
  infra = await isolatedInfra("imapqresync");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, USER, PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), watchers: new MailboxWatchers(), hostname: "imap.test", name: "imap-qresync-test" });
});

afterAll(async () => {
  for (const w of wires) w.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("QRESYNC (RFC 7162 §3.2)", () => {
  it("is advertised, and refused (BAD) until ENABLE QRESYNC", async () => {
    const w = await session();
    expect(await run(w, "C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* QRESYNC /m);
    expect(await run(w, "S SELECT INBOX (QRESYNC (1 1))")).toMatch(/^S BAD QRESYNC needs ENABLE QRESYNC first/m);
    expect(await run(w, "S SELECT INBOX")).toMatch(/^S OK/m);
    expect(await run(w, "F UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)")).toMatch(/^F BAD VANISHED needs QRESYNC/m);
    expect(await run(w, "E ENABLE QRESYNC")).toMatch(/^\* ENABLED QRESYNC\r\nE OK/m);
    expect(await run(w, "F FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)")).toMatch(/^F BAD VANISHED is a UID FETCH modifier/m);
    expect(await run(w, "F UID FETCH 1:* FLAGS (VANISHED)")).toMatch(/^F BAD VANISHED needs CHANGEDSINCE/m);
    expect(await run(w, "S SELECT INBOX (QRESYNC (1 0))")).toMatch(/^S BAD QRESYNC: the mod-sequence must be a positive number/m);
  });

  describe("a client that was away", () => {
    let away: LineWire;
    let other: LineWire;
    let uidValidity: number;
    let modseq: number;
    let flaggedModseq: number;

    beforeAll(async () => {
      other = await session();
      expect(await run(other, "C CREATE Resync")).toMatch(/^C OK/m);
      for (let i = 1; i <= 5; i++) await append(other, "Resync", `m${i}`);
      away = await session();
      expect(await run(away, "E ENABLE QRESYNC")).toMatch(/^E OK/m);
      const sel = await run(away, "S SELECT Resync");
      uidValidity = num(/UIDVALIDITY (\d+)/, sel);
      modseq = num(/HIGHESTMODSEQ (\d+)/, sel);
      expect(await run(away, "U UNSELECT")).toMatch(/^U OK/m);
      // While it is away: a flag on UID 2, UIDs 3 and 5 expunged, UID 6 arrives.
      expect(await run(other, "S SELECT Resync (CONDSTORE)")).toMatch(/^S OK/m);
      const flagged = await run(other, "F UID STORE 2 +FLAGS (\\Flagged)");
      flaggedModseq = num(/MODSEQ \((\d+)\)/, flagged);
      expect(await run(other, "D UID STORE 3,5 +FLAGS.SILENT (\\Deleted)")).toMatch(/^D OK/m);
      expect(await run(other, "X UID EXPUNGE 3,5")).toMatch(/^\* 3 EXPUNGE\r\n\* 4 EXPUNGE\r\n/m);
      await append(other, "Resync", "m6");
    });

    it("SELECT (QRESYNC (uidvalidity modseq)) reports the expunged UIDs as VANISHED (EARLIER) and the changed messages as FETCH", async () => {
      const r = await run(away, `S SELECT Resync (QRESYNC (${uidValidity} ${modseq}))`);
      expect(r).toMatch(/^\* 4 EXISTS\r\n/m);
      expect(r).toMatch(/^\* VANISHED \(EARLIER\) 3,5\r\n/m);
      expect(r).toMatch(new RegExp(`^\\* 2 FETCH \\(UID 2 FLAGS \\(\\\\Flagged\\) MODSEQ \\(${flaggedModseq}\\)\\)\\r\\n`, "m"));
      // UID 6 is not \Recent here: the other session, selected when it came, claimed it.
      expect(r).toMatch(/^\* 4 FETCH \(UID 6 FLAGS \(\) MODSEQ \(\d+\)\)\r\n/m);
      expect(r.match(/ FETCH /g)).toHaveLength(2);
      // VANISHED comes after UIDVALIDITY (the client only then knows its cache is good) and before the FETCHes.
      expect(r.indexOf("VANISHED")).toBeGreaterThan(r.indexOf("UIDVALIDITY"));
      expect(r.indexOf("VANISHED")).toBeLessThan(r.indexOf("FETCH"));
      expect(r).toMatch(/^S OK \[READ-WRITE\]/m);
    });

    it("re-selecting with QRESYNC on says OK [CLOSED] first, and known UIDs limit what is reported", async () => {
      const r = await run(away, `S EXAMINE Resync (QRESYNC (${uidValidity} ${modseq} 1:3))`);
      expect(r).toMatch(/^\* OK \[CLOSED\][^\r]*\r\n\* \d+ EXISTS/);
      expect(r).toMatch(/^\* VANISHED \(EARLIER\) 3\r\n/m);
      expect(r).toMatch(/^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ/m);
      expect(r).not.toMatch(/UID 6/);
      expect(r).toMatch(/^S OK \[READ-ONLY\]/m);
    });

    it("accepts seq-match-data, and a different UIDVALIDITY resyncs nothing", async () => {
      expect(await run(away, `S EXAMINE Resync (QRESYNC (${uidValidity} ${modseq} 1:5 (1:3 1:3)))`)).toMatch(/^\* VANISHED \(EARLIER\) 3,5\r\n/m);
      const r = await run(away, `S EXAMINE Resync (QRESYNC (${uidValidity + 1} ${modseq}))`);
      expect(r).not.toMatch(/VANISHED|FETCH/);
      expect(r).toMatch(/^S OK/m);
    });

    it("UID FETCH … (CHANGEDSINCE m VANISHED) reports the set's expunged UIDs, then the changed messages", async () => {
      const r = await run(away, `F UID FETCH 1:* FLAGS (CHANGEDSINCE ${modseq} VANISHED)`);
      expect(r).toMatch(/^\* VANISHED \(EARLIER\) 3,5\r\n\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)\r\n\* 4 FETCH \(UID 6 FLAGS \([^)]*\) MODSEQ \(\d+\)\)\r\nF OK/);
      expect(await run(away, `F UID FETCH 4:5 FLAGS (CHANGEDSINCE ${modseq} VANISHED)`)).toMatch(/^\* VANISHED \(EARLIER\) 5\r\nF OK/);
      expect(await run(away, `F UID FETCH 1:2 FLAGS (CHANGEDSINCE ${flaggedModseq} VANISHED)`)).toMatch(/^F OK/);
    });
  });

  it("once enabled, expunges are VANISHED (own EXPUNGE, another session's, MOVE), not EXPUNGE; a CONDSTORE-only session still gets EXPUNGE", async () => {
    const q = await session();
    const plain = await session();
    expect(await run(q, "C CREATE Vanish")).toMatch(/^C OK/m);
    expect(await run(q, "C CREATE Elsewhere")).toMatch(/^C OK/m);
    for (let i = 1; i <= 6; i++) await append(q, "Vanish", `v${i}`);
    expect(await run(q, "E ENABLE QRESYNC")).toMatch(/^E OK/m);
    expect(await run(q, "S SELECT Vanish")).toMatch(/^S OK/m);
    expect(await run(plain, "S SELECT Vanish (CONDSTORE)")).toMatch(/^S OK/m);

    // STORE's FETCH carries the UID once QRESYNC is on (§3.2.4), even without UID STORE.
    expect(await run(q, "T STORE 1:2 +FLAGS (\\Deleted)")).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Deleted \\Recent\) MODSEQ \(\d+\)\)\r\n\* 2 FETCH \(UID 2 /m);
    const own = await run(q, "X EXPUNGE");
    expect(own).toMatch(/^\* VANISHED 1:2\r\nX OK/m);
    expect(own).not.toMatch(/EXPUNGE\r\n/);
    expect(await run(plain, "N NOOP")).toMatch(/^\* 1 EXPUNGE\r\n\* 1 EXPUNGE\r\n/m);

    expect(await run(plain, "D UID STORE 4 +FLAGS.SILENT (\\Deleted)")).toMatch(/^D OK/m);
    expect(await run(plain, "X UID EXPUNGE 4")).toMatch(/^\* 2 EXPUNGE\r\n/m);
    const theirs = await run(q, "N NOOP");
    expect(theirs).toMatch(/^\* VANISHED 4\r\n/m);
    expect(theirs).not.toMatch(/ EXPUNGE\r\n/);

    const moved = await run(q, "M UID MOVE 5:6 Elsewhere");
    expect(moved).toMatch(/^\* OK \[COPYUID \d+ 5:6 1:2\][^\r]*\r\n\* VANISHED 5:6\r\nM OK/m);
    // The message left (UID 3) is now number 1.
    expect(await run(q, "F FETCH 1:* (UID)")).toMatch(/^\* 1 FETCH \(UID 3\)\r\nF OK/m);
  });
});
