/**
 * IMAP fidelity defects of issue 13 seen on the wire (imaptest's copy, select, search-flags,
 * listext, subscribe scripts): \Recent, UIDVALIDITY reuse, CREATE subscribing, LIST-EXTENDED,
 * keywords in FLAGS, "[" in mailbox names, and an APPEND seen by its own session.
 * Raw IMAP lines against a real listener on a real PostgreSQL.
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
const USER = "fid@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let store: MailStore;
let watchers: MailboxWatchers;
let accountId: number;

const message = (subject: string) => `From: bea@example.org\r\nTo: fid@imap.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`;
/** An APPEND line with a LITERAL+ literal, so it goes out in one write. */
const appendLine = (tag: string, box: string, subject: string, flags = "") => {
  const m = message(subject);
  return `${tag} APPEND ${box} ${flags ? `(${flags}) ` : ""}{${Buffer.byteLength(m)}+}\r\n${m}`;
};

/** One IMAP connection, logged in; `run` sends a command and returns what came back up to its tagged response. */
class Conversation {
  private constructor(private readonly wire: LineWire) {}

  static async open(): Promise<Conversation> {
    const wire = await LineWire.open(listener.port);
    await wire.until(/^\* OK[^\r]*\r\n/);
    const c = new Conversation(wire);
    await c.run(`L LOGIN ${USER} "${PASSWORD}"`);
    return c;
  }

  async run(line: string): Promise<string> {
    const tag = line.split(" ")[0]!;
    this.wire.drain();
    this.wire.write(line + "\r\n");
    return this.wire.until(new RegExp(`(^|\\r\\n)${tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} (OK|NO|BAD)[^\\r]*\\r\\n`), 5_000);
  }

  close(): void {
    this.wire.close();
  }
}

const uidValidityOf = (out: string) => Number(/UIDVALIDITY (\d+)/.exec(out)?.[1]);

beforeAll(async () => {
  infra = await isolatedInfra("imapfid");
  await addDomain(infra.pool, "imap.test");
  accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  store = new MailStore({ pool: infra.pool });
  watchers = new MailboxWatchers();
  listener = await startTestImapListener({ infra, mail: store, watchers, hostname: "imap.test", name: "imap-fidelity-test" });
});

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

describe("\\Recent (RFC 3501 §2.3.2)", () => {
  it("is set for the first session to SELECT after the messages arrived, in FETCH FLAGS and SEARCH RECENT/NEW/OLD", async () => {
    const a = await Conversation.open();
    expect(await a.run("c1 CREATE recent1")).toContain("c1 OK");
    expect(await a.run(appendLine("c2", "recent1", "one"))).toContain("c2 OK");
    expect(await a.run(appendLine("c3", "recent1", "two"))).toContain("c3 OK");
    const sel = await a.run("c4 SELECT recent1");
    expect(sel).toContain("* 2 EXISTS\r\n");
    expect(sel).toContain("* 2 RECENT\r\n");
    expect(await a.run("c5 FETCH 1:* FLAGS")).toMatch(/\* 1 FETCH \(FLAGS \(\\Recent\)\)\r\n\* 2 FETCH \(FLAGS \(\\Recent\)\)/);
    expect(await a.run("c6 SEARCH RECENT")).toContain("* SEARCH 1 2\r\n");
    expect(await a.run("c7 STORE 1 +FLAGS (\\Seen)")).toContain("* 1 FETCH (FLAGS (\\Seen \\Recent))");
    expect(await a.run("c8 SEARCH NEW")).toContain("* SEARCH 2\r\n");
    expect(await a.run("c9 SEARCH OLD")).toContain("* SEARCH\r\n");

    // Another session: the messages were claimed by the first one.
    const b = await Conversation.open();
    expect(await b.run("d1 SELECT recent1")).toContain("* 0 RECENT\r\n");
    expect(await b.run("d2 FETCH 1:* FLAGS")).not.toContain("\\Recent");
    expect(await b.run("d3 SEARCH RECENT")).toContain("* SEARCH\r\n");
    expect(await b.run("d4 SEARCH OLD")).toContain("* SEARCH 1 2\r\n");
    b.close();

    // New mail while selected: EXISTS and RECENT on the next command, the message \Recent here.
    const box = (await store.findMailbox(accountId, "recent1"))!;
    await store.append(accountId, "recent1", Buffer.from(message("three")));
    watchers.changed(box.id);
    const noop = await a.run("c10 NOOP");
    expect(noop).toContain("* 3 EXISTS\r\n* 3 RECENT\r\n");
    expect(await a.run("c11 FETCH 3 FLAGS")).toContain("* 3 FETCH (FLAGS (\\Recent))");
    a.close();
  });

  it("STATUS RECENT counts the messages no SELECT has claimed yet", async () => {
    const a = await Conversation.open();
    await a.run("s1 CREATE recent3");
    await a.run(appendLine("s2", "recent3", "one"));
    await a.run(appendLine("s3", "recent3", "two"));
    expect(await a.run("s4 STATUS recent3 (MESSAGES RECENT)")).toContain("* STATUS \"recent3\" (MESSAGES 2 RECENT 2)\r\n");
    await a.run("s5 SELECT recent3");
    await a.run("s6 UNSELECT");
    expect(await a.run("s7 STATUS recent3 (MESSAGES RECENT)")).toContain("* STATUS \"recent3\" (MESSAGES 2 RECENT 0)\r\n");
    a.close();
  });

  it("EXAMINE shows the unclaimed messages as recent without claiming them", async () => {
    const a = await Conversation.open();
    await a.run("e1 CREATE recent2");
    await a.run(appendLine("e2", "recent2", "one"));
    expect(await a.run("e3 EXAMINE recent2")).toContain("* 1 RECENT\r\n");
    expect(await a.run("e4 EXAMINE recent2")).toContain("* 1 RECENT\r\n");
    expect(await a.run("e5 SELECT recent2")).toContain("* 1 RECENT\r\n");
    expect(await a.run("e6 SELECT recent2")).toContain("* 0 RECENT\r\n");
    a.close();
  });
});

describe("mailbox lifecycle", () => {
  it("never reuses a UIDVALIDITY after DELETE and CREATE of the same name (RFC 3501 §2.3.1.1)", async () => {
    const a = await Conversation.open();
    await a.run("u1 CREATE again");
    const first = uidValidityOf(await a.run("u2 STATUS again (UIDVALIDITY UIDNEXT)"));
    await a.run(appendLine("u3", "again", "x"));
    await a.run("u4 DELETE again");
    await a.run("u5 CREATE again");
    const status = await a.run("u6 STATUS again (UIDVALIDITY UIDNEXT)");
    expect(status).toContain("UIDNEXT 1");
    expect(uidValidityOf(status)).toBeGreaterThan(first);
    a.close();
  });

  it("CREATE subscribes neither the mailbox nor its parents; the default folders stay subscribed", async () => {
    const a = await Conversation.open();
    expect(await a.run("s1 CREATE sub1/sub2")).toContain("s1 OK");
    const lsub = await a.run('s2 LSUB "" "sub1*"');
    expect(lsub).not.toContain("* LSUB");
    expect(await a.run('s3 LIST (SUBSCRIBED) "" "sub1*"')).not.toContain("* LIST");
    const all = await a.run('s4 LSUB "" "*"');
    expect(all).toContain('* LSUB () "/" "INBOX"\r\n');
    expect(all).toContain('"/" "Sent"\r\n');
    a.close();
  });

  it("selects, creates and lists a mailbox whose name has [ and ] (ATOM-CHARs)", async () => {
    const a = await Conversation.open();
    const name = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
    expect(await a.run(`b1 CREATE ${name}`)).toContain("b1 OK");
    expect(await a.run(`b2 SELECT ${name}`)).toContain("b2 OK [READ-WRITE]");
    expect(await a.run(`b3 CREATE x]y[z`)).toContain("b3 OK");
    expect(await a.run(`b4 LIST "" x]y[z`)).toContain('"/" "x]y[z"');
    a.close();
  });
});

describe("LIST-EXTENDED (RFC 5258)", () => {
  it("answers BAD to RECURSIVEMATCH without another selection option", async () => {
    const a = await Conversation.open();
    expect(await a.run('r1 LIST (RECURSIVEMATCH) "" ""')).toMatch(/^r1 BAD/m);
    expect(await a.run('r2 LIST (RECURSIVEMATCH REMOTE) "" ""')).toMatch(/^r2 BAD/m);
    expect(await a.run('r3 LIST (RECURSIVEMATCH SUBSCRIBED) "" ""')).toMatch(/^r3 OK/m);
    a.close();
  });

  it("lists a subscribed mailbox deleted since as \\NonExistent, and CHILDINFO with RECURSIVEMATCH", async () => {
    const a = await Conversation.open();
    for (const n of ["lx/t1", "lx/t6", "lx/t8/t8", "lx/t8/t9", "lx/t2/t1"]) expect(await a.run(`l0 CREATE ${n}`)).toContain("l0 OK");
    for (const n of ["lx/t1", "lx/t6", "lx/t8/t8", "lx/t8/t9", "lx/t2/t1"]) expect(await a.run(`l1 SUBSCRIBE ${n}`)).toContain("l1 OK");
    expect(await a.run("l2 DELETE lx/t6")).toContain("l2 OK");
    const subscribed = await a.run('l3 LIST (SUBSCRIBED) "" "lx/*"');
    expect(subscribed).toContain('* LIST (\\Subscribed \\NonExistent) "/" "lx/t6"\r\n');
    expect(subscribed).toMatch(/\* LIST \(\\Subscribed [^)]*\) "\/" "lx\/t1"\r\n/);
    expect(subscribed).not.toMatch(/"\/" "lx\/t8"\r\n/);

    const t8 = await a.run('l4 LIST (SUBSCRIBED RECURSIVEMATCH) "" "*t8"');
    expect(t8).toMatch(/\* LIST \([^)]*\) "\/" "lx\/t8" \("CHILDINFO" \("SUBSCRIBED"\)\)\r\n/);
    expect(t8).toMatch(/\* LIST \(\\Subscribed[^)]*\) "\/" "lx\/t8\/t8"\r\n/);
    const t2 = await a.run('l5 LIST (SUBSCRIBED RECURSIVEMATCH) "" (lx/t2 lx/t2/t1)');
    expect(t2).not.toContain("CHILDINFO");
    expect(t2).toMatch(/"\/" "lx\/t2\/t1"\r\n/);
    // RFC 3501 §6.3.9: LSUB with % lists an unsubscribed parent of a subscription as \Noselect.
    expect(await a.run('l6 LSUB "" "lx/%"')).toContain('* LSUB (\\Noselect) "/" "lx/t8"\r\n');
    expect(await a.run("l7 UNSUBSCRIBE lx/t6")).toContain("l7 OK");
    expect(await a.run('l8 LIST (SUBSCRIBED) "" "lx/*"')).not.toContain("lx/t6");
    a.close();
  });
});

describe("keywords in FLAGS (RFC 3501 §7.2.6)", () => {
  it("lists the keywords in use on SELECT and announces a new one before a FETCH shows it", async () => {
    const a = await Conversation.open();
    await a.run("k1 CREATE kw");
    await a.run(appendLine("k2", "kw", "one", "$Old"));
    const sel = await a.run("k3 SELECT kw");
    expect(sel).toMatch(/\* FLAGS \([^)]*\$Old\)/);
    const st = await a.run("k4 STORE 1 +FLAGS (fresh)");
    expect(st).toMatch(/\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Old fresh\)\r\n\* OK \[PERMANENTFLAGS \([^)]*fresh \\\*\)\][^\r]*\r\n\* 1 FETCH/);
    expect(await a.run("k5 STORE 1 +FLAGS (fresh)")).not.toContain("* FLAGS");

    // Another session's new keyword: FLAGS before the unsolicited FETCH.
    const b = await Conversation.open();
    await b.run("m1 SELECT kw");
    await b.run("m2 STORE 1 +FLAGS (other)");
    b.close();
    const box = (await store.findMailbox(accountId, "kw"))!;
    watchers.changed(box.id);
    expect(await a.run("k6 NOOP")).toMatch(/\* FLAGS \([^)]*other\)\r\n\* OK \[PERMANENTFLAGS[^\r]*\r\n\* 1 FETCH \(UID 1 FLAGS \([^)]*other/);
    a.close();
  });

  it("declares a keyword another session set before this session's STORE answer shows it", async () => {
    const a = await Conversation.open();
    await a.run("q1 CREATE kw2");
    await a.run(appendLine("q2", "kw2", "one"));
    await a.run("q3 SELECT kw2");
    const b = await Conversation.open();
    await b.run("r1 SELECT kw2");
    await b.run("r2 STORE 1 +FLAGS (theirs)");
    b.close();
    // No NOOP between: the STORE's own FETCH carries the other session's keyword.
    expect(await a.run("q4 STORE 1 +FLAGS (\\Seen)")).toMatch(/\* FLAGS \([^)]*theirs\)\r\n\* OK \[PERMANENTFLAGS[^\r]*\r\n\* 1 FETCH \(FLAGS \([^)]*theirs/);
    a.close();
  });
});

describe("APPEND to the selected mailbox", () => {
  it("reports EXISTS before the tagged OK, and the new UID is fetchable at once", async () => {
    const a = await Conversation.open();
    await a.run("p1 CREATE own");
    await a.run("p2 SELECT own");
    for (let i = 1; i <= 3; i++) {
      const out = await a.run(appendLine(`p3${i}`, "own", `n${i}`));
      expect(out).toMatch(new RegExp(`\\* ${i} EXISTS\\r\\n(\\* ${i} RECENT\\r\\n)?p3${i} OK \\[APPENDUID \\d+ ${i}\\]`));
      expect(await a.run(`p4${i} UID FETCH ${i} (FLAGS)`)).toContain(`* ${i} FETCH (UID ${i} FLAGS (\\Recent))`);
    }
    a.close();
  });
});
