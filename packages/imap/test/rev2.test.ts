/**
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1, without a store: what ENABLE IMAP4rev2 switches,
 * the LIST attributes of a level of hierarchy that is no mailbox, SELECT's LIST line, the
 * SEARCH keys and STATUS items rev2 removed, and CHECK. services/retrieval's
 * imap-rev2.int.test.ts drives each difference over the wire against PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import { encodeValue } from "../src/index.js";
import { hierarchyHoles, holeAttributes } from "../src/commands/list.js";
import { selectedListLine } from "../src/commands/select.js";
import { statusItems } from "../src/syntax/status.js";
import { parseSearchKeys } from "../src/syntax/search.js";
import { argsOf as args, framedLine as line, testSession as session } from "./command-line.js";

describe("ENABLE IMAP4rev2 (RFC 9051 Appendix E item 8)", () => {
  it("advertises IMAP4rev2 after IMAP4rev1, before and after login", () => {
    const { s } = session();
    expect(s.capabilities().slice(0, 2)).toEqual(["IMAP4rev1", "IMAP4rev2"]);
    s.state = "not-authenticated";
    expect(s.capabilities().slice(0, 2)).toEqual(["IMAP4rev1", "IMAP4rev2"]);
  });

  it.each([
    ["ENABLE IMAP4rev2", "* ENABLED IMAP4rev2"],
    ["ENABLE imap4rev2 CONDSTORE", "* ENABLED IMAP4rev2 CONDSTORE"],
    ["ENABLE IMAP4rev3", "* ENABLED"],
  ])("%s answers %s", async (command, enabled) => {
    const { s, out } = session();
    await s.handleLine(line(`e ${command}\r\n`));
    expect(out.join("")).toBe(`${enabled}\r\ne OK ENABLE completed\r\n`);
  });

  it("switches the session to rev2 and UTF-8 mailbox names, and only once", async () => {
    const { s, out } = session();
    expect([s.rev2, s.utf8]).toEqual([false, false]);
    await s.handleLine(line("e ENABLE IMAP4rev2\r\n"));
    expect([s.rev2, s.utf8]).toEqual([true, true]);
    await s.handleLine(line("f ENABLE IMAP4REV2\r\n"));
    expect(out.slice(-2).join("")).toBe("* ENABLED\r\nf OK ENABLE completed\r\n");
  });
});

describe("levels of hierarchy that are no mailbox (RFC 3501 §6.3.8, RFC 9051 §6.3.9)", () => {
  it.each([
    [["a/b/c"], ["a", "a/b"]],
    [["a", "a/b/c"], ["a/b"]],
    [["INBOX", "x/y", "x/z"], ["x"]],
    [["a/b", "a"], []],
  ])("%j leaves %j", (names, holes) => {
    expect(hierarchyHoles(new Set(names)).sort()).toEqual(holes);
  });

  it("is \\Noselect in IMAP4rev1 and \\NonExistent in IMAP4rev2, with children in both", () => {
    expect(holeAttributes(false)).toEqual(["\\Noselect", "\\HasChildren"]);
    expect(holeAttributes(true)).toEqual(["\\NonExistent", "\\HasChildren"]);
  });
});

describe("SELECT's untagged LIST (RFC 9051 §6.3.2)", () => {
  const encoded = (items: ReturnType<typeof selectedListLine>) => items.map((i) => Buffer.concat(encodeValue(i, { utf8: true })).toString()).join(" ");
  it("names the mailbox, in UTF-8", async () => {
    const { s } = session();
    await s.handleLine(line("e ENABLE IMAP4rev2\r\n"));
    expect(encoded(selectedListLine(s, "Café", "Café"))).toBe('LIST () "/" "Café"');
  });
  it("gives a spelling not in NFC as OLDNAME (§6.3.9.7)", async () => {
    const { s } = session();
    await s.handleLine(line("e ENABLE IMAP4rev2\r\n"));
    expect(encoded(selectedListLine(s, "Café", "Cafe\u0301"))).toBe('LIST () "/" "Café" ("OLDNAME" ("Cafe\u0301"))');
  });
});

describe("what RFC 9051 removed: \\Recent's SEARCH keys and STATUS item", () => {
  it.each(["RECENT", "NEW", "OLD", "NOT RECENT", "OR SEEN NEW"])("IMAP4rev1 reads SEARCH %s, IMAP4rev2 refuses it", (criteria) => {
    const read = (rev2: boolean) => parseSearchKeys(args(`a SEARCH ${criteria}`), { rev2 });
    expect(() => read(false)).not.toThrow();
    expect(() => read(true)).toThrow(/IMAP4rev2 has no (RECENT|NEW|OLD) key/);
  });

  it("IMAP4rev1 reads STATUS (RECENT), IMAP4rev2 refuses it and keeps SIZE and DELETED", () => {
    const items = args("a STATUS INBOX (MESSAGES RECENT SIZE DELETED)")[1];
    expect(statusItems(items)).toEqual(["MESSAGES", "RECENT", "SIZE", "DELETED"]);
    expect(() => statusItems(items, true)).toThrow(/no RECENT status item/);
    expect(statusItems(args("a STATUS INBOX (SIZE DELETED)")[1], true)).toEqual(["SIZE", "DELETED"]);
  });
});
