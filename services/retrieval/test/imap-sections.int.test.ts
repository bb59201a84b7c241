import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";
import { LineWire } from "./line-wire.js";

// Issue 13, "what failed, as seen on the wire": raw IMAP lines against a real store.

const PASSWORD = "fidelity horse battery";
const USER = "eva@fidelity.test";
const crlf = (...lines: string[]) => lines.join("\r\n");

const INNER = crlf("From: sub@fidelity.test", "Date: Sun, 12 Aug 2012 12:34:56 +0300", "Subject: submsg", "", "Hello world", "");
/** 1: a top-level message/rfc822 (a forward as an attachment of nothing else). */
const FORWARD = crlf("From: eva@fidelity.test", "Date: Sat, 24 Mar 2007 23:00:00 +0200", "MIME-Version: 1.0", "Content-Type: message/rfc822", "", INNER);
/** 2: sent at midnight +0200: 25 March where it was written, 24 March in UTC. */
const MIDNIGHT = crlf("From: eva@fidelity.test", "Date: Sun, 25 Mar 2007 00:00:00 +0200", "Subject: midnight", "", "x", "");
/** 3: comments inside an addr-spec; groups, one empty and one of a comment only. */
const COMMENTED = crlf("From: <user-from (comment)@ (comment) domain.org>", "Cc: group: ;, group2: (foo) ;", "Subject: commented", "", "y", "");
/** 4: NULs in the body, and a last line without CRLF. */
const WITH_NULS = Buffer.from(crlf("From: eva@fidelity.test", "Subject: nuls", "", "a\0b", "c\0"), "latin1");

let infra: IsolatedInfra;
let listener: ImapListener;

beforeAll(async () => {
  infra = await isolatedInfra("imapfid");
  await addDomain(infra.pool, "fidelity.test");
  const accountId = (await addAccount(infra.pool, USER, PASSWORD)).id;
  const store = new MailStore({ pool: infra.pool });
  listener = await startTestImapListener({ infra, mail: store, hostname: "fidelity.test", name: "imap-sections-test" });
  for (const m of [FORWARD, MIDNIGHT, COMMENTED]) await store.append(accountId, "INBOX", Buffer.from(m, "latin1"), { flags: [] });
  await store.append(accountId, "INBOX", WITH_NULS, { flags: [] });
});

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

/** Logs in, selects INBOX, sends `command` as tag T and returns what came before and with `T OK|NO|BAD`. */
async function ask(command: string): Promise<string> {
  const wire = await LineWire.open(listener.port);
  try {
    await wire.until(/^\* OK[^\r]*\r\n/);
    wire.write(`L LOGIN ${USER} "${PASSWORD}"\r\nS SELECT INBOX\r\n`);
    await wire.until(/\r\nS (OK|NO|BAD)[^\r]*\r\n/);
    wire.write(`T ${command}\r\n`);
    return await wire.until(/(^|\r\n)T (OK|NO|BAD)[^\r]*\r\n/);
  } finally {
    wire.close();
  }
}

/** The literal after `item {n}\r\n` in a FETCH response. */
function literalOf(response: string, item: string): string | undefined {
  const at = response.indexOf(`${item} {`);
  if (at === -1) return undefined;
  const open = response.indexOf("{", at);
  const close = response.indexOf("}\r\n", open);
  const n = Number(response.slice(open + 1, close));
  return response.slice(close + 3, close + 3 + n);
}

describe("BODY[section] inside message/rfc822 (RFC 3501 §6.4.5)", () => {
  it("answers BODY[1] of a top-level message/rfc822 with the whole encapsulated message", async () => {
    const r = await ask("FETCH 1 (BODY.PEEK[1])");
    expect(literalOf(r, "BODY[1]")).toBe(INNER);
  });

  it("answers 1.HEADER, 1.TEXT, 1.MIME and 1.1 from the encapsulated message", async () => {
    const r = await ask("FETCH 1 (BODY.PEEK[1.HEADER] BODY.PEEK[1.TEXT] BODY.PEEK[1.MIME] BODY.PEEK[1.1] BODY.PEEK[1.HEADER.FIELDS (SUBJECT)])");
    expect(r).toMatch(/T OK/);
    expect(literalOf(r, "BODY[1.HEADER]")).toBe("From: sub@fidelity.test\r\nDate: Sun, 12 Aug 2012 12:34:56 +0300\r\nSubject: submsg\r\n\r\n");
    expect(literalOf(r, "BODY[1.TEXT]")).toBe("Hello world\r\n");
    expect(literalOf(r, "BODY[1.1]")).toBe("Hello world\r\n");
    expect(literalOf(r, "BODY[1.HEADER.FIELDS (SUBJECT)]")).toBe("Subject: submsg\r\n\r\n");
    expect(literalOf(r, "BODY[1.MIME]")).toContain("Content-Type: message/rfc822\r\n\r\n");
  });
});

describe("SENTON, SENTBEFORE, SENTSINCE (RFC 3501 §6.4.4)", () => {
  it("compares the Date: header's day in its own zone", async () => {
    expect(await ask("SEARCH SENTON 25-Mar-2007")).toContain("* SEARCH 2\r\n");
    expect(await ask("SEARCH SENTON 24-Mar-2007")).toContain("* SEARCH 1\r\n");
    expect(await ask("SEARCH SENTBEFORE 25-Mar-2007 SENTSINCE 24-Mar-2007")).toContain("* SEARCH 1\r\n");
    expect(await ask("SEARCH SENTSINCE 25-Mar-2007 SENTBEFORE 26-Mar-2007")).toContain("* SEARCH 2\r\n");
  });
});

describe("addresses in ENVELOPE and SEARCH (RFC 5322 §3.4)", () => {
  it("finds an addr-spec written with comments by the address itself", async () => {
    expect(await ask("SEARCH FROM user-from@domain.org")).toContain("* SEARCH 3\r\n");
    expect(await ask("SEARCH FROM ser-fro")).toContain("* SEARCH 3\r\n");
  });

  it("lists empty groups as their markers only", async () => {
    const r = await ask("FETCH 3 (ENVELOPE)");
    expect(r).toContain('((NIL NIL "user-from" "domain.org")) ((NIL NIL "user-from" "domain.org")) ((NIL NIL "user-from" "domain.org")) NIL ((NIL NIL "group" NIL) (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL NIL NIL)) NIL');
  });
});

describe("NUL octets and line counts", () => {
  it("sends NULs as 0x80 in literals of the size RFC822.SIZE gives", async () => {
    const r = await ask("FETCH 4 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT])");
    const whole = literalOf(r, "BODY[]")!;
    expect(r).toContain(`RFC822.SIZE ${WITH_NULS.length}`);
    expect(whole.length).toBe(WITH_NULS.length);
    expect(whole).not.toContain("\0");
    expect(literalOf(r, "BODY[TEXT]")).toBe("a\x80b\r\nc\x80");
  });

  it("counts the lines of a body without a final CRLF as Dovecot does", async () => {
    const r = await ask("FETCH 4 (BODYSTRUCTURE)");
    expect(r).toMatch(/BODYSTRUCTURE \("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 7 1 /);
  });
});
