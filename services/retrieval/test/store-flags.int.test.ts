import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { MailStore } from "@correo/mailstore";

// storeFlags decides with plain array operators when only system flags are given, and
// lower-cases both sides when keywords are (flags.ts). Both must give RFC 3501 §6.4.6's
// answer, and change MODSEQ only for the messages whose flags change (RFC 7162 §3.1.3).
let infra: IsolatedInfra;
let store: MailStore;
let accountId: number;
let mailboxId: number;

beforeAll(async () => {
  infra = await isolatedInfra("mailstore-store-flags");
  await addDomain(infra.pool, "flags.test");
  accountId = (await addAccount(infra.pool, "ana@flags.test", "long enough pass")).id;
  store = new MailStore({ pool: infra.pool });
  mailboxId = (await store.findMailbox(accountId, "INBOX"))!.id;
});
afterAll(async () => {
  await infra?.cleanup();
});

async function message(flags: string[]): Promise<number> {
  const r = await store.append(accountId, "INBOX", Buffer.from(`Subject: ${flags.join(" ")}\r\n\r\nx\r\n`), { flags });
  if ("refused" in r) throw new Error(r.text);
  return r.uid;
}

const state = async (uid: number) => (await store.fetchFlags(mailboxId, [uid]))[0]!;

describe("STORE on flags and keywords", () => {
  it.each([
    // mode, stored, given, flags after, changed
    ["add", ["\\Seen", "$Label"], ["\\Seen"], ["$Label", "\\Seen"], false],
    ["add", ["$Label"], ["\\Flagged", "\\Seen"], ["$Label", "\\Flagged", "\\Seen"], true],
    ["add", [], ["\\Deleted"], ["\\Deleted"], true],
    ["remove", ["\\Seen", "$Label"], ["\\Seen"], ["$Label"], true],
    ["remove", ["$Label"], ["\\Seen"], ["$Label"], false],
    ["set", ["\\Seen"], ["\\Seen"], ["\\Seen"], false],
    ["set", ["\\Seen", "$Label"], ["\\Seen"], ["\\Seen"], true],
    ["set", ["\\Seen"], [], [], true],
    ["set", [], [], [], false],
    // Keywords compare case-insensitively (RFC 3501 §2.3.2).
    ["add", ["$label"], ["$Label"], ["$label"], false],
    ["remove", ["$Label", "\\Seen"], ["$LABEL"], ["\\Seen"], true],
    // Unchanged, so stored as it was.
    ["set", ["$Label", "\\Seen"], ["\\Seen", "$LABEL"], ["$Label", "\\Seen"], false],
    ["add", ["\\Seen"], ["\\Seen", "$New"], ["$New", "\\Seen"], true],
  ] as const)("%s %j with %j gives %j (changed: %s)", async (mode, before, given, after, changed) => {
    const uid = await message([...before]);
    const was = await state(uid);
    const r = await store.storeFlags(mailboxId, [uid], mode, [...given]);
    const now = await state(uid);
    expect([...now.flags].sort()).toEqual([...after].sort());
    expect(r.updated.map((u) => u.uid)).toEqual(changed ? [uid] : []);
    expect(now.modseq > was.modseq).toBe(changed);
  });
});
