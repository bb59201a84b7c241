import { describe, expect, it } from "vitest";
import { parseThread } from "../src/syntax/thread.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("THREAD arguments (RFC 5256 §3)", () => {
  it.each([
    // RFC 5256 §3's examples.
    ["a THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", { algorithm: "ORDEREDSUBJECT", keys: [{ key: "date", field: "internal", op: "since", day: "2000-03-05" }] }],
    ["a UID THREAD references US-ASCII TEXT \"gewp\"", { algorithm: "REFERENCES", keys: [{ key: "text", value: "gewp" }] }],
    ["a THREAD REFERENCES utf-8 ALL UNSEEN", { algorithm: "REFERENCES", keys: [{ key: "all" }, { key: "flag", flag: "\\Seen", set: false }] }],
  ])("%s reads as the request", (line, request) => {
    expect(parseThread(argsOf(line), { rev2: false })).toEqual(request);
  });

  it.each([
    ["a THREAD", { status: "BAD", text: "THREAD needs a threading algorithm" }],
    ['a THREAD "REFERENCES" UTF-8 ALL', { status: "BAD", text: "THREAD needs a threading algorithm" }],
    ["a THREAD REFS UTF-8 ALL", { status: "BAD", text: "THREAD: unsupported algorithm REFS" }],
    ["a THREAD REFERENCES", { status: "BAD", text: "the THREAD charset is missing or not a string" }],
    ["a THREAD REFERENCES UTF-8", { status: "BAD", text: "THREAD needs search criteria" }],
    ["a THREAD REFERENCES KOI8-R ALL", { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: "charset KOI8-R is not supported" }],
    ["a THREAD REFERENCES UTF-8 SINCE", { status: "BAD", text: "SEARCH: the date is missing" }],
  ])("%s is refused: %j", (line, refusal) => {
    expect(refusalOf(() => parseThread(argsOf(line), { rev2: false }))).toEqual(refusal);
  });
});
