import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

// Issue 13 item 4: FETCH reads its messages 1000 at a time (250 when it reads bodies),
// reads the next batch while it writes this one, and writes many responses at once. RFC 3501 §7.4.2: one FETCH
// response per message, in the order of the set, each with its own sequence number.

const PASSWORD = "batches horse battery";
const USER = "bea@batches.test";
const COUNT = 2100; // three batches of structures, the last one short
const crlf = (...lines: string[]) => lines.join("\r\n");
const message = (i: number) => Buffer.from(crlf(`From: s${i}@batches.test`, `Subject: number ${i}`, `Message-ID: <${i}@batches.test>`, "", `body ${i}`, ""));

let infra: IsolatedInfra;
let listener: ImapListener;

beforeAll(async () => {
  infra = await isolatedInfra("imapbatch");
  await addDomain(infra.pool, "batches.test");
  const accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  const store = new MailStore({ pool: infra.pool });
  listener = await startTestImapListener({ infra, mail: store, hostname: "batches.test", name: "imap-fetch-batches-test" });
  for (let i = 1; i <= COUNT; i++) await store.append(accountId, "INBOX", message(i), { flags: i % 2 ? ["\\Seen"] : [] });
  // Message 400 (the second batch of bodies) gets a part whose transfer encoding BINARY cannot decode.
  const { rows } = await infra.pool.query<{ id: number }>("SELECT id FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [accountId]);
  await infra.pool.query(
    `UPDATE mailbox_messages SET body_structure = jsonb_set(body_structure, '{encoding}', '"x-unknown"') WHERE mailbox_id = $1 AND uid = 400`,
    [rows[0]!.id],
  );
}, 120_000);

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

async function ask(command: string, select = "SELECT"): Promise<string> {
  const wire = await LineWire.open(listener.port);
  try {
    await wire.until(/^\* OK[^\r]*\r\n/);
    wire.write(`L LOGIN ${USER} "${PASSWORD}"\r\nS ${select} INBOX\r\n`);
    await wire.until(/\r\nS (OK|NO|BAD)[^\r]*\r\n/);
    wire.write(`T ${command}\r\n`);
    return await wire.until(/(^|\r\n)T (OK|NO|BAD)[^\r]*\r\n/);
  } finally {
    wire.close();
  }
}

const fetches = (out: string) => [...out.matchAll(/^\* (\d+) FETCH \(UID (\d+) /gm)].map((m) => [Number(m[1]), Number(m[2])]);

describe("FETCH over many batches", () => {
  it("answers every message once, in order, with its own sequence number, UID and envelope", async () => {
    const out = await ask("FETCH 1:* (UID FLAGS ENVELOPE)", "EXAMINE");
    expect(out).toMatch(/\r\nT OK /);
    expect(fetches(out)).toEqual(Array.from({ length: COUNT }, (_, i) => [i + 1, i + 1]));
    for (const i of [1, 1000, 1001, 2000, 2001, COUNT]) {
      // The first session to SELECT sees every message \Recent too.
      expect(out).toContain(`* ${i} FETCH (UID ${i} FLAGS (${i % 2 ? "\\Seen \\Recent" : "\\Recent"}) ENVELOPE (NIL "number ${i}" `);
    }
  });

  it("answers a UID FETCH of scattered UIDs across batches in UID order", async () => {
    const out = await ask("UID FETCH 1610,3,1000:1002,* (FLAGS)");
    expect(fetches(out)).toEqual([[3, 3], [1000, 1000], [1001, 1001], [1002, 1002], [1610, 1610], [COUNT, COUNT]]);
  });

  it("sets \\Seen for BODY[] across batches and reports the new flags", async () => {
    const out = await ask("FETCH 240:260 (UID BODY[TEXT])");
    const seen = [...out.matchAll(/^\* (\d+) FETCH \(UID \d+ BODY\[TEXT\] \{\d+\}\r\nbody \d+\r\n FLAGS \(\\Seen\)\)/gm)].map((m) => Number(m[1]));
    expect(seen).toEqual(Array.from({ length: 21 }, (_, i) => 240 + i).filter((i) => i % 2 === 0));
    expect(fetches(out).map(([s]) => s)).toEqual(Array.from({ length: 21 }, (_, i) => 240 + i));
  });

  it("sends what came before an UNKNOWN-CTE part, then NO, and the session goes on", async () => {
    const wire = await LineWire.open(listener.port);
    try {
      await wire.until(/^\* OK[^\r]*\r\n/);
      wire.write(`L LOGIN ${USER} "${PASSWORD}"\r\nS EXAMINE INBOX\r\nT FETCH 1:* (UID BINARY.SIZE[1])\r\n`);
      const out = await wire.until(/\r\nT (OK|NO|BAD)[^\r]*\r\n/);
      expect(out).toMatch(/\r\nT NO \[UNKNOWN-CTE\] /);
      expect(fetches(out).map(([s]) => s)).toEqual(Array.from({ length: 399 }, (_, i) => i + 1));
      wire.write("N NOOP\r\n");
      expect(await wire.until(/(^|\r\n)N (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/N OK/);
    } finally {
      wire.close();
    }
  });
});
