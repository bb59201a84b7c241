import { describe, expect, it } from "vitest";
import { parseCopy } from "../src/syntax/copy.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("COPY and MOVE arguments (RFC 3501 §6.4.7, RFC 6851 §3)", () => {
  it.each([
    // RFC 3501 §6.4.7 and RFC 6851 §4.4's examples.
    ["a COPY 2:4 MEETING", "COPY", { set: [[2, 4]], mailbox: "MEETING" }],
    ["a UID MOVE 42:69 foo", "UID MOVE", { set: [[42, 69]], mailbox: "foo" }],
    ['a MOVE $ "Old mail"', "MOVE", { set: "$", mailbox: "Old mail" }],
    ["a COPY 1,3:* &ZeVnLIqe-", "COPY", { set: [[1, 1], [3, "*"]], mailbox: "&ZeVnLIqe-" }],
  ])("%s reads as the request", (line, command, request) => {
    expect(parseCopy(argsOf(line), command)).toEqual(request);
  });

  it.each([
    ["a COPY 1", "COPY", "COPY takes a sequence set and a mailbox"],
    ["a UID MOVE 1 a b", "UID MOVE", "UID MOVE takes a sequence set and a mailbox"],
    ["a COPY x Trash", "COPY", "invalid sequence set"],
    ["a COPY 1:0 Trash", "COPY", "invalid sequence set"],
    ["a MOVE 1 (Trash)", "MOVE", "the mailbox name is missing or not a string"],
  ])("%s is BAD: %s", (line, command, text) => {
    expect(refusalOf(() => parseCopy(argsOf(line), command))).toEqual({ status: "BAD", text });
  });
});
