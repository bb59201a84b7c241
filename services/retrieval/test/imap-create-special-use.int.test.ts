/** RFC 6154 §3 CREATE … (USE (…)) on the wire, on a real PostgreSQL: the use LIST shows after. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

const PASSWORD = "correct horse battery";
let infra: IsolatedInfra;
let listener: ImapListener;
const wires: LineWire[] = [];

async function run(wire: LineWire, line: string): Promise<string> {
  const tag = line.split(" ")[0]!;
  wire.drain();
  wire.write(line + "\r\n");
  return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
}

async function session(user: string): Promise<LineWire> {
  const w = await LineWire.open(listener.port);
  wires.push(w);
  await w.until(/^\* OK[^\r]*\r\n/);
  expect(await run(w, `L LOGIN ${user} "${PASSWORD}"`)).toContain("L OK");
  return w;
}

beforeAll(async () => {
  infra = await isolatedInfra("imapcreateuse");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, "uses@imap.test", PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), hostname: "imap.test", name: "imap-create-use-test" });
});

afterAll(async () => {
  for (const w of wires) w.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("CREATE-SPECIAL-USE (RFC 6154 §3)", () => {
  it("is advertised, and CREATE … (USE (\\Junk)) makes a mailbox LIST shows as \\Junk", async () => {
    const w = await session("uses@imap.test");
    expect(await run(w, "C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* CREATE-SPECIAL-USE /m);
    expect(await run(w, "C CREATE Spam (USE (\\Junk))")).toMatch(/^C OK/m);
    expect(await run(w, "C CREATE Plain (USE ())")).toMatch(/^C OK/m);
    const list = await run(w, 'L LIST "" "*" RETURN (SPECIAL-USE)');
    expect(list).toMatch(/^\* LIST \([^)]*\\Junk[^)]*\) "\/" "?Spam"?\r\n/m);
    expect(list).toMatch(/^\* LIST \((?![^)]*\\Junk)[^)]*\) "\/" "?Plain"?\r\n/m);
    expect(await run(w, 'L LIST (SPECIAL-USE) "" "*"')).toMatch(/Spam/);
  });

  it("refuses a use it cannot give with NO [USEATTR], and creates nothing", async () => {
    const w = await session("uses@imap.test");
    expect(await run(w, "C CREATE Everything (USE (\\All))")).toMatch(/^C NO \[USEATTR\] \\All is a virtual mailbox/m);
    expect(await run(w, "C CREATE Both (USE (\\Sent \\Trash))")).toMatch(/^C NO \[USEATTR\]/m);
    expect(await run(w, "C CREATE Odd (FROB)")).toMatch(/^C BAD unknown CREATE parameter FROB/m);
    expect(await run(w, 'L LIST "" "*"')).not.toMatch(/Everything|Both|Odd/);
  });
});
