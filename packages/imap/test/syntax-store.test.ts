import { describe, expect, it } from "vitest";
import { parseStore } from "../src/syntax/store.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("STORE arguments (RFC 3501 §6.4.6, RFC 7162 §3.1.3)", () => {
  it.each([
    // RFC 3501 §6.4.6's example.
    ["a STORE 2:4 +FLAGS (\\Deleted)", { set: [[2, 4]], mode: "add", silent: false, flags: ["\\Deleted"] }],
    ["a STORE 1 FLAGS.SILENT (\\Seen $Label1)", { set: [[1, 1]], mode: "set", silent: true, flags: ["\\Seen", "$Label1"] }],
    ["a UID STORE 1:* -flags \\seen \\FLAGGED", { set: [[1, "*"]], mode: "remove", silent: false, flags: ["\\Seen", "\\Flagged"] }],
    ["a STORE $ +FLAGS.SILENT ()", { set: "$", mode: "add", silent: true, flags: [] }],
    ["a STORE 1 FLAGS", { set: [[1, 1]], mode: "set", silent: false, flags: [] }],
    // RFC 7162 §3.1.3's example.
    ["a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)", { set: [[7, 7], [5, 5], [9, 9]], unchangedSince: 320162338, mode: "add", silent: true, flags: ["\\Deleted"] }],
  ])("%s reads as the request", (line, request) => {
    expect(parseStore(argsOf(line))).toEqual(request);
  });

  it.each([
    ["a STORE", "invalid sequence set"],
    ["a STORE 0 FLAGS (\\Seen)", "invalid sequence set"],
    ["a STORE 1 (FROB 1) FLAGS (\\Seen)", "unknown STORE modifier"],
    ["a STORE 1 () FLAGS (\\Seen)", "unknown STORE modifier"],
    ["a STORE 1 (UNCHANGEDSINCE x) FLAGS (\\Seen)", "UNCHANGEDSINCE must be a number"],
    ["a STORE 1 *FLAGS (\\Seen)", "expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT)"],
    ["a STORE 1 +FLAGS.LOUD (\\Seen)", "expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT)"],
    ["a STORE 1", "expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT)"],
    ["a STORE 1 +FLAGS (\\Recent)", "\\Recent cannot be set by a client"],
    ["a STORE 1 +FLAGS (\\Frob)", "unknown system flag \\Frob"],
    ['a STORE 1 +FLAGS ("x")', "flags must be atoms"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseStore(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
