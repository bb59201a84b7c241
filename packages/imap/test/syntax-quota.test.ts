import { describe, expect, it } from "vitest";
import { parseGetquota, parseGetquotaroot, parseSetquota } from "../src/syntax/quota.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("QUOTA arguments (RFC 9208 §4.1)", () => {
  it.each([
    // RFC 9208 §4.1.1 and §4.1.2's examples.
    ['G GETQUOTA ""', () => parseGetquota(argsOf('G GETQUOTA ""')), { root: "" }],
    ["G GETQUOTA !partition.sda4", () => parseGetquota(argsOf("G GETQUOTA !partition.sda4")), { root: "!partition.sda4" }],
    ["G GETQUOTAROOT INBOX", () => parseGetquotaroot(argsOf("G GETQUOTAROOT INBOX")), { mailbox: "INBOX" }],
    ['S SETQUOTA "" (STORAGE 512)', () => parseSetquota(argsOf('S SETQUOTA "" (STORAGE 512)')), undefined],
  ])("%s reads as %j", (_line, parse, request) => {
    expect(parse()).toEqual(request);
  });

  it.each([
    ["a GETQUOTA", () => parseGetquota(argsOf("a GETQUOTA")), "GETQUOTA takes a quota root"],
    ["a GETQUOTA (x)", () => parseGetquota(argsOf("a GETQUOTA (x)")), "the quota root is missing or not a string"],
    ["a GETQUOTAROOT INBOX Sent", () => parseGetquotaroot(argsOf("a GETQUOTAROOT INBOX Sent")), "GETQUOTAROOT takes a mailbox name"],
    ["a GETQUOTAROOT (INBOX)", () => parseGetquotaroot(argsOf("a GETQUOTAROOT (INBOX)")), "the mailbox name is missing or not a string"],
    ['a SETQUOTA "" STORAGE', () => parseSetquota(argsOf('a SETQUOTA "" STORAGE')), "SETQUOTA takes a quota root and a list of resource limits"],
    ['a SETQUOTA ""', () => parseSetquota(argsOf('a SETQUOTA ""')), "SETQUOTA takes a quota root and a list of resource limits"],
  ])("%s is BAD: %s", (_line, parse, text) => {
    expect(refusalOf(parse)).toEqual({ status: "BAD", text });
  });
});
