import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

// Migration 029: the append stores ENVELOPE and BODYSTRUCTURE as response text, and a FETCH
// of summary items sends that text as it is. Held here to the same bytes as the structures
// give (a FETCH that also asks for a body section reads whole records and builds them), for
// rows stored with the texts, rows stored before them (filled in by that FETCH), and
// messages whose envelope needs a literal (stored without texts).

const PASSWORD = "summaries horse battery";
const USER = "sam@summaries.test";
const crlf = (...lines: string[]) => lines.join("\r\n");
const MESSAGES = [
  crlf("From: \"Ana \\\"A\\\" Perez\" <ana@example.org>", "To: sam@summaries.test, group: b@x.test, c@x.test;", "Subject: =?utf-8?Q?caf=C3=A9?= plain", "Date: Mon, 1 Jan 2024 10:00:00 +0100", "Message-ID: <1@summaries.test>", "", "one", ""),
  crlf(
    "From: bea@example.org",
    "Subject: with parts",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "text",
    "--b",
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename="a.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    "JVBERi0=",
    "--b--",
    "",
  ),
  // 8-bit subject (RFC 6532): its envelope string needs a literal, so no text is stored.
  crlf("From: cy@example.org", "Subject: Grüße aus Köln", "", "three", ""),
  // A subject over 1 KB: a literal too.
  crlf("From: di@example.org", `Subject: ${"long ".repeat(300)}`, "", "four", ""),
].map((m) => Buffer.from(m));

let infra: IsolatedInfra;
let listener: ImapListener;
let mailboxId: number;

beforeAll(async () => {
  infra = await isolatedInfra("imapsummaries");
  await addDomain(infra.pool, "summaries.test");
  const accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  const store = new MailStore({ pool: infra.pool });
  listener = await startTestImapListener({ infra, mail: store, hostname: "summaries.test", name: "imap-fetch-summaries-test" });
  for (const m of MESSAGES) await store.append(accountId, "INBOX", m);
  mailboxId = (await infra.pool.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [accountId])).rows[0]!.id;
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

async function ask(command: string, enable?: string): Promise<string> {
  const wire = await LineWire.open(listener.port);
  try {
    await wire.until(/^\* OK[^\r]*\r\n/);
    wire.write(`L LOGIN ${USER} "${PASSWORD}"\r\n${enable ? `E ENABLE ${enable}\r\n` : ""}S EXAMINE INBOX\r\n`);
    await wire.until(/\r\nS (OK|NO|BAD)[^\r]*\r\n/);
    wire.write(`T ${command}\r\n`);
    return await wire.until(/(^|\r\n)T (OK|NO|BAD)[^\r]*\r\n/);
  } finally {
    wire.close();
  }
}

/** A section that makes FETCH read whole records, and its answer (no such field: an empty header). */
const SECTION = "BODY.PEEK[HEADER.FIELDS (X-NONE)]";
const SECTION_ANSWER = " BODY[HEADER.FIELDS (X-NONE)] {2}\r\n\r\n";

async function texts(): Promise<{ uid: number; envelope: string | null; body: string | null }[]> {
  const { rows } = await infra.pool.query<{ uid: string; imap_envelope: string | null; imap_body_structure: string | null }>(
    "SELECT uid, imap_envelope, imap_body_structure FROM mailbox_messages WHERE mailbox_id = $1 ORDER BY uid",
    [mailboxId],
  );
  return rows.map((r) => ({ uid: Number(r.uid), envelope: r.imap_envelope, body: r.imap_body_structure }));
}

describe("FETCH of summary items from the stored response texts (migration 029)", () => {
  it("stores the texts at append, except for envelopes that need a literal", async () => {
    const t = await texts();
    expect(t.map((r) => [r.envelope !== null, r.body !== null])).toEqual([[true, true], [true, true], [false, false], [false, false]]);
    expect(t[0]!.envelope).toContain('(("Ana \\"A\\" Perez" NIL "ana" "example.org"))');
    expect(t[0]!.envelope).toContain('((NIL NIL "sam" "summaries.test") (NIL NIL "group" NIL) (NIL NIL "b" "x.test") (NIL NIL "c" "x.test") (NIL NIL NIL NIL))');
    expect(t[1]!.body).toContain('("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 8 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) NIL NIL)');
  });

  it("sends the same bytes as the structures give, with and without UTF8=ACCEPT and CONDSTORE", async () => {
    const items = "UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE MODSEQ EMAILID THREADID";
    for (const enable of [undefined, "UTF8=ACCEPT", "CONDSTORE UTF8=ACCEPT"]) {
      const summary = await ask(`FETCH 1:* (${items})`, enable);
      const whole = await ask(`FETCH 1:* (${items} ${SECTION})`, enable);
      expect(summary).toMatch(/\r\nT OK /);
      expect(summary.match(/^\* \d+ FETCH /gm)).toHaveLength(MESSAGES.length);
      expect(whole.split(SECTION_ANSWER)).toHaveLength(MESSAGES.length + 1);
      expect(summary).toBe(whole.split(SECTION_ANSWER).join(""));
    }
  });

  it("fills in the texts of rows stored before them, and answers the same before and after", async () => {
    const stored = await texts();
    const before = await ask("FETCH 1:* (ENVELOPE BODYSTRUCTURE)");
    await infra.pool.query("UPDATE mailbox_messages SET imap_envelope = NULL, imap_body_structure = NULL WHERE mailbox_id = $1", [mailboxId]);
    expect(await ask("FETCH 1:* (ENVELOPE BODYSTRUCTURE)")).toBe(before);
    expect(await texts()).toEqual(stored);
    expect(await ask("FETCH 1:* (ENVELOPE BODYSTRUCTURE)")).toBe(before);
  });
});
