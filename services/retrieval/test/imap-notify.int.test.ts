/**
 * RFC 5465 NOTIFY on the wire: raw IMAP lines against a real listener on a real PostgreSQL,
 * two sessions of one account; the watchers get the account's mailbox.changed as the
 * service's broker subscription hands it to them.
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
const USER = "notified@imap.test";

let infra: IsolatedInfra;
let store: MailStore;
let watchers: MailboxWatchers;
let accountId: number;
let listener: ImapListener;
let a: LineWire;
let b: LineWire;

async function run(wire: LineWire, line: string): Promise<string> {
  const tag = line.split(" ")[0]!;
  wire.drain();
  wire.write(line + "\r\n");
  return wire.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
}

/** What the mailbox.changed subscription does in the service (services/retrieval/src/main.ts). */
async function published(name: string): Promise<void> {
  const box = await store.findMailbox(accountId, name);
  watchers.changed(box!.id, accountId);
}

async function append(wire: LineWire, box: string, subject: string): Promise<void> {
  const raw = `Subject: ${subject}\r\n\r\nbody\r\n`;
  expect(await run(wire, `A APPEND ${box} {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
}

beforeAll(async () => {
  infra = await isolatedInfra("imapnotify");
  await addDomain(infra.pool, "imap.test");
  accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  store = new MailStore({ pool: infra.pool });
  watchers = new MailboxWatchers();
  listener = await startTestImapListener({ infra, mail: store, watchers, hostname: "imap.test", name: "imap-notify-test" });
  a = await LineWire.open(listener.port);
  b = await LineWire.open(listener.port);
  for (const w of [a, b]) {
    await w.until(/^\* OK[^\r]*\r\n/);
    expect(await run(w, `L LOGIN ${USER} "${PASSWORD}"`)).toContain("L OK");
  }
  expect(await run(b, "C CREATE Lists/imap")).toContain("C OK");
  await append(b, "Lists/imap", "first");
});

afterAll(async () => {
  a?.close();
  b?.close();
  await listener?.close();
  await infra?.cleanup();
});

describe("NOTIFY (RFC 5465)", () => {
  it("is advertised", async () => {
    expect(await run(a, "c CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* NOTIFY[ \r]/m);
  });

  it("answers SET STATUS with the STATUS of each mailbox under a message event (§3.1)", async () => {
    const out = await run(a, 'n1 NOTIFY SET STATUS (mailboxes "Lists/imap" (MessageNew MessageExpunge))');
    expect(out).toMatch(/^\* STATUS "Lists\/imap" \(MESSAGES 1 UIDNEXT \d+ UIDVALIDITY \d+\)\r\nn1 OK/m);
    expect(await run(a, 'n2 NOTIFY SET STATUS (mailboxes "Lists/imap" (MessageExpunge))')).toMatch(/^\* STATUS "Lists\/imap" \(MESSAGES 1\)\r\n/m);
    expect(await run(a, 'n3 NOTIFY SET (mailboxes "Lists/imap" (MessageNew MessageExpunge))')).not.toContain("* STATUS");
  });

  it("pushes STATUS when another session adds to a watched mailbox, with no command running", async () => {
    expect(await run(a, "n4 NOTIFY SET (subtree Lists (MessageNew MessageExpunge))")).toContain("n4 OK");
    a.drain();
    await append(b, "Lists/imap", "second");
    await published("Lists/imap");
    expect(await a.until(/^\* STATUS [^\r]*\r\n/m, 5_000)).toMatch(/^\* STATUS "Lists\/imap" \(MESSAGES 2 UIDNEXT \d+ UIDVALIDITY \d+\)/m);
  });

  it("pushes LIST for a mailbox another session creates or deletes, and for subscriptions (§5.4, §5.5)", async () => {
    expect(await run(a, "n5 NOTIFY SET (personal (MailboxName SubscriptionChange))")).toContain("n5 OK");
    a.drain();
    expect(await run(b, "c1 CREATE Projects")).toContain("c1 OK");
    expect(await a.until(/^\* LIST [^\r]*\r\n/m, 5_000)).toContain('* LIST () "/" "Projects"');
    a.drain();
    expect(await run(b, "s1 SUBSCRIBE Projects")).toContain("s1 OK");
    expect(await a.until(/^\* LIST [^\r]*\r\n/m, 5_000)).toContain('* LIST (\\Subscribed) "/" "Projects"');
    a.drain();
    expect(await run(b, "d1 DELETE Projects")).toContain("d1 OK");
    expect(await a.until(/^\* LIST \(\\NonExistent[^\r]*\r\n/m, 5_000)).toContain('* LIST (\\NonExistent) "/" "Projects"');
  });

  it("pushes EXISTS and FETCH for the selected mailbox at once with SELECTED (§5.1, §5.3)", async () => {
    expect(await run(a, "s SELECT Lists/imap")).toContain("* 2 EXISTS");
    expect(await run(a, "n6 NOTIFY SET (selected (MessageNew MessageExpunge FlagChange))")).toContain("n6 OK");
    a.drain();
    await append(b, "Lists/imap", "third");
    await published("Lists/imap");
    expect(await a.until(/^\* 3 EXISTS\r\n/m, 5_000)).toContain("* 3 EXISTS");
    a.drain();
    expect(await run(b, "b1 SELECT Lists/imap")).toContain("b1 OK");
    expect(await run(b, "t1 STORE 1 +FLAGS (\\Flagged)")).toContain("t1 OK");
    await published("Lists/imap");
    expect(await a.until(/^\* 1 FETCH [^\r]*\r\n/m, 5_000)).toMatch(/FLAGS \([^)]*\\Flagged/);
  });

  it("stops with NOTIFY NONE, and refuses what it does not report", async () => {
    expect(await run(a, "n7 NOTIFY NONE")).toContain("n7 OK");
    a.drain();
    expect(await run(b, "c2 CREATE Quiet")).toContain("c2 OK");
    expect(await run(a, "p NOOP")).not.toContain("* LIST");
    expect(await run(a, "n8 NOTIFY SET (personal (AnnotationChange))")).toMatch(/^n8 NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\]/m);
    expect(await run(a, "n9 NOTIFY SET (selected (MailboxName))")).toMatch(/^n9 BAD /m);
    expect(await run(a, "n10 NOTIFY")).toMatch(/^n10 BAD /m);
  });
});
