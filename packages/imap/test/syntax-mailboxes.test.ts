import { describe, expect, it } from "vitest";
import { CreateParamError } from "../src/syntax/create.js";
import { parseCreate, parseDelete, parseRename, parseSubscribe } from "../src/syntax/mailboxes.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("CREATE, DELETE, RENAME, SUBSCRIBE arguments (RFC 3501 §6.3.3–§6.3.7)", () => {
  it.each([
    // RFC 3501's examples.
    ["A003 CREATE owatagusiam/", () => parseCreate(argsOf("A003 CREATE owatagusiam/")), { mailbox: "owatagusiam/", specialUse: null }],
    ["a CREATE Spam (USE (\\Junk))", () => parseCreate(argsOf("a CREATE Spam (USE (\\Junk))")), { mailbox: "Spam", specialUse: "\\Junk" }],
    ["A683 DELETE blurdybloop", () => parseDelete(argsOf("A683 DELETE blurdybloop")), { mailbox: "blurdybloop" }],
    ["A683 RENAME blurdybloop sarasoop", () => parseRename(argsOf("A683 RENAME blurdybloop sarasoop")), { from: "blurdybloop", to: "sarasoop" }],
    ['a RENAME "old name" &ZeVnLIqe-', () => parseRename(argsOf('a RENAME "old name" &ZeVnLIqe-')), { from: "old name", to: "&ZeVnLIqe-" }],
    ["A002 SUBSCRIBE #news.comp.mail.mime", () => parseSubscribe(argsOf("A002 SUBSCRIBE #news.comp.mail.mime"), "SUBSCRIBE"), { mailbox: "#news.comp.mail.mime" }],
  ])("%s reads as %j", (_line, parse, request) => {
    expect(parse()).toEqual(request);
  });

  it.each([
    ["a CREATE", () => parseCreate(argsOf("a CREATE")), "CREATE takes a mailbox name"],
    ["a CREATE (x)", () => parseCreate(argsOf("a CREATE (x)")), "the mailbox name is missing or not a string"],
    ["a DELETE", () => parseDelete(argsOf("a DELETE")), "DELETE takes a mailbox name"],
    ["a DELETE a b", () => parseDelete(argsOf("a DELETE a b")), "DELETE takes a mailbox name"],
    ["a DELETE (a)", () => parseDelete(argsOf("a DELETE (a)")), "the mailbox name is missing or not a string"],
    ["a RENAME a", () => parseRename(argsOf("a RENAME a")), "RENAME takes two mailbox names"],
    ["a RENAME a (b)", () => parseRename(argsOf("a RENAME a (b)")), "the mailbox name is missing or not a string"],
    ["a UNSUBSCRIBE", () => parseSubscribe(argsOf("a UNSUBSCRIBE"), "UNSUBSCRIBE"), "UNSUBSCRIBE takes a mailbox name"],
    ["a SUBSCRIBE (x)", () => parseSubscribe(argsOf("a SUBSCRIBE (x)"), "SUBSCRIBE"), "the mailbox name is missing or not a string"],
  ])("%s is BAD: %s", (_line, parse, text) => {
    expect(refusalOf(parse)).toEqual({ status: "BAD", text });
  });

  it("answers CREATE's parameters before its name (syntax/create.ts, test/create-params.test.ts)", () => {
    expect(() => parseCreate(argsOf("a CREATE (x) (USE (\\All))"))).toThrow(CreateParamError);
  });
});
