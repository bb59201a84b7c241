/**
 * RFC 9208 QUOTA on the wire, on a real PostgreSQL: the account's quota (accounts.quota_bytes)
 * and usage (the folders' used_bytes) as GETQUOTAROOT and GETQUOTA show them.
 */
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
  infra = await isolatedInfra("imapquota");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, "limited@imap.test", PASSWORD, { quotaBytes: 10 * 1024 * 1024 });
  await addAccount(infra.pool, "free@imap.test", PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), hostname: "imap.test", name: "imap-quota-test" });
});

afterAll(async () => {
  for (const w of wires) w.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("QUOTA (RFC 9208)", () => {
  it("advertises QUOTA and QUOTA=RES-STORAGE after login", async () => {
    const w = await session("limited@imap.test");
    expect(await run(w, "C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* QUOTA QUOTA=RES-STORAGE/m);
  });

  it("GETQUOTAROOT names the root \"\" and its STORAGE usage and limit in KiB; GETQUOTA \"\" the same", async () => {
    const w = await session("limited@imap.test");
    expect(await run(w, 'Q GETQUOTAROOT INBOX')).toMatch(/^\* QUOTAROOT "INBOX" ""\r\n\* QUOTA "" \(STORAGE 0 10240\)\r\nQ OK/m);
    const raw = `Subject: big\r\n\r\n${"x".repeat(3000)}\r\n`;
    expect(await run(w, `A APPEND Sent {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
    // 3 000-odd octets in Sent: 3 KiB of the account's one root, whichever folder.
    expect(await run(w, 'Q GETQUOTA ""')).toMatch(/^\* QUOTA "" \(STORAGE 3 10240\)\r\nQ OK/m);
    expect(await run(w, "Q GETQUOTAROOT Sent")).toMatch(/^\* QUOTAROOT "Sent" ""\r\n\* QUOTA "" \(STORAGE 3 10240\)\r\n/m);
  });

  it("answers NO for an unknown root or mailbox, NO [NOPERM] for SETQUOTA, BAD for bad arguments", async () => {
    const w = await session("limited@imap.test");
    expect(await run(w, 'Q GETQUOTA "other"')).toMatch(/^Q NO \[NONEXISTENT\] no quota root "other"/m);
    expect(await run(w, "Q GETQUOTAROOT Nowhere")).toMatch(/^Q NO \[NONEXISTENT\]/m);
    expect(await run(w, 'Q SETQUOTA "" (STORAGE 512)')).toMatch(/^Q NO \[NOPERM\] quotas are set by the administrator/m);
    expect(await run(w, "Q GETQUOTA")).toMatch(/^Q BAD GETQUOTA takes a quota root/m);
    expect(await run(w, 'Q SETQUOTA ""')).toMatch(/^Q BAD SETQUOTA takes/m);
  });

  it("an account without a quota has no root", async () => {
    const w = await session("free@imap.test");
    expect(await run(w, "Q GETQUOTAROOT INBOX")).toMatch(/^\* QUOTAROOT "INBOX"\r\nQ OK/m);
    expect(await run(w, 'Q GETQUOTA ""')).toMatch(/^Q NO \[NONEXISTENT\]/m);
  });

  it("STATUS DELETED and DELETED-STORAGE count what an EXPUNGE would free", async () => {
    const w = await session("limited@imap.test");
    const raw = `Subject: gone\r\n\r\n${"y".repeat(1500)}\r\n`;
    expect(await run(w, `A APPEND Drafts (\\Deleted) {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
    expect(await run(w, "S STATUS Drafts (DELETED DELETED-STORAGE)")).toMatch(/^\* STATUS "Drafts" \(DELETED 1 DELETED-STORAGE 2\)\r\n/m);
  });
});
