import { describe, expect, it } from "vitest";
import { parseExpunge } from "../src/syntax/expunge.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("EXPUNGE and UID EXPUNGE arguments (RFC 3501 §6.4.3, RFC 4315 §2.1)", () => {
  it.each([
    ["a EXPUNGE", false, {}],
    // RFC 4315 §2.1's example.
    ["a UID EXPUNGE 3000:3002", true, { uids: [[3000, 3002]] }],
    ["a UID EXPUNGE $", true, { uids: "$" }],
  ])("%s reads as the request", (line, uid, request) => {
    expect(parseExpunge(argsOf(line), uid)).toEqual(request);
  });

  it.each([
    ["a EXPUNGE 1", false, "EXPUNGE takes no arguments"],
    ["a UID EXPUNGE", true, "UID EXPUNGE takes a UID set"],
    ["a UID EXPUNGE 1 2", true, "UID EXPUNGE takes a UID set"],
    ["a UID EXPUNGE x", true, "UID EXPUNGE takes a UID set"],
  ])("%s is BAD: %s", (line, uid, text) => {
    expect(refusalOf(() => parseExpunge(argsOf(line), uid))).toEqual({ status: "BAD", text });
  });
});
