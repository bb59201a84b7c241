import { describe, expect, it } from "vitest";
import { parseGenurlauth, parseResetkey, parseUrlfetch } from "../src/syntax/urlauth.js";
import { argsOf, refusalOf } from "./command-line.js";

const RUMP = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred";

describe("URLAUTH arguments (RFC 4467 §7, RFC 5524)", () => {
  it.each([
    // RFC 4467 §7.1's example.
    [`a GENURLAUTH "${RUMP}" INTERNAL`, [{ rump: RUMP, mechanism: "INTERNAL" }]],
    [`a GENURLAUTH "${RUMP}" internal "${RUMP}" XSAMPLE`, [{ rump: RUMP, mechanism: "INTERNAL" }, { rump: RUMP, mechanism: "XSAMPLE" }]],
  ])("%s reads as %j", (line, pairs) => {
    expect(parseGenurlauth(argsOf(line))).toEqual(pairs);
  });

  it.each([
    ["a GENURLAUTH", "GENURLAUTH takes pairs of a URL and a mechanism"],
    [`a GENURLAUTH "${RUMP}"`, "GENURLAUTH takes pairs of a URL and a mechanism"],
    ["a GENURLAUTH (x) INTERNAL", "the URL is missing or not a string"],
    [`a GENURLAUTH "${RUMP}" "INTERNAL"`, "the mechanism must be an atom"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseGenurlauth(argsOf(line)))).toEqual({ status: "BAD", text });
  });

  it.each([
    // RFC 4467 §7.2 and RFC 5524 §3's examples.
    ['a URLFETCH "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038"', [
      { url: "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038" },
    ]],
    ['a URLFETCH ("/a/;UID=1" BODYPARTSTRUCTURE binary) "/b/;UID=2"', [{ url: "/a/;UID=1", items: new Set(["BODYPARTSTRUCTURE", "BINARY"]) }, { url: "/b/;UID=2" }]],
  ])("%s reads as %j", (line, requests) => {
    expect(parseUrlfetch(argsOf(line))).toEqual(requests);
  });

  it.each([
    ["a URLFETCH", "URLFETCH takes one or more URLs"],
    ['a URLFETCH ("/a/;UID=1")', "a parenthesized URLFETCH URL needs BODY, BINARY or BODYPARTSTRUCTURE"],
    ['a URLFETCH ("/a/;UID=1" TEXT)', "unknown URLFETCH parameter TEXT: BODY, BINARY or BODYPARTSTRUCTURE"],
    ['a URLFETCH ("/a/;UID=1" "BODY")', "a URLFETCH parameter must be an atom"],
    ["a URLFETCH ((x) BODY)", "the URL is missing or not a string"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseUrlfetch(argsOf(line)))).toEqual({ status: "BAD", text });
  });

  it.each([
    ["a RESETKEY", { mechanisms: [] }],
    // RFC 4467 §7.3's example.
    ["a RESETKEY INBOX", { mailbox: "INBOX", mechanisms: [] }],
    ["a RESETKEY Drafts internal XSAMPLE", { mailbox: "Drafts", mechanisms: ["INTERNAL", "XSAMPLE"] }],
  ])("%s reads as %j", (line, request) => {
    expect(parseResetkey(argsOf(line))).toEqual(request);
  });

  it.each([
    ["a RESETKEY (INBOX)", "the mailbox name is missing or not a string"],
    ['a RESETKEY INBOX "INTERNAL"', "the mechanism must be an atom"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseResetkey(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
