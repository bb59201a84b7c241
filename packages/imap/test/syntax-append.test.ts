import { describe, expect, it } from "vitest";
import { parseAppend, type AppendRequest } from "../src/syntax/append.js";
import { argsOfWire, literal, refusalOf } from "./command-line.js";

const MESSAGE = "Subject: afternoon meeting\r\n\r\nHello Joe\r\n";

/** The request with each literal as its text, to compare. */
function shown(r: AppendRequest) {
  return {
    mailbox: r.mailbox,
    messages: r.messages.map((m) => ({
      flags: m.flags,
      internalDate: m.internalDate?.toISOString(),
      source:
        "literal" in m.source
          ? { literal: m.source.literal.value, ...(m.source.literal.binary ? { binary: true } : {}) }
          : { catenate: m.source.catenate.map((p) => ("url" in p ? p : { text: p.text.toString(), binary: p.binary })) },
    })),
  };
}

const parse = (wire: string) => shown(parseAppend(argsOfWire(wire)));

describe("APPEND arguments (RFC 3501 §6.3.11, RFC 3502, RFC 3516 §4.2, RFC 4469 §5, RFC 6855 §4)", () => {
  it.each([
    // RFC 3501 §6.3.11's example.
    [`a APPEND saved-messages (\\Seen) ${literal(MESSAGE)}\r\n`, { mailbox: "saved-messages", messages: [{ flags: ["\\Seen"], source: { literal: MESSAGE } }] }],
    [`a APPEND INBOX ${literal("x")}\r\n`, { mailbox: "INBOX", messages: [{ flags: [], source: { literal: "x" } }] }],
    [`a APPEND INBOX "17-Jul-1996 02:44:25 -0700" ${literal("x")}\r\n`, { mailbox: "INBOX", messages: [{ flags: [], internalDate: "1996-07-17T09:44:25.000Z", source: { literal: "x" } }] }],
    // RFC 3502 §6.3.11: several messages in one APPEND.
    [`a APPEND Drafts (\\Draft $Work) ${literal("one")} () "1-Jan-2020 00:00:00 +0000" ${literal("two")}\r\n`, {
      mailbox: "Drafts",
      messages: [
        { flags: ["\\Draft", "$Work"], source: { literal: "one" } },
        { flags: [], internalDate: "2020-01-01T00:00:00.000Z", source: { literal: "two" } },
      ],
    }],
    // RFC 3516 §4.2 literal8, RFC 6855 §4 UTF8 (literal8).
    ["a APPEND INBOX ~{3+}\r\nb\0c\r\n", { mailbox: "INBOX", messages: [{ flags: [], source: { literal: "b\0c", binary: true } }] }],
    ["a APPEND INBOX UTF8 (~{2+}\r\nok)\r\n", { mailbox: "INBOX", messages: [{ flags: [], source: { literal: "ok", binary: true } }] }],
    // RFC 4469 §5's example.
    [`a APPEND Drafts CATENATE (URL "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER" TEXT ${literal("\r\n--abc\r\n")} URL /x/;UID=1)\r\n`, {
      mailbox: "Drafts",
      messages: [{
        flags: [],
        source: { catenate: [{ url: "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER" }, { text: "\r\n--abc\r\n", binary: false }, { url: "/x/;UID=1" }] },
      }],
    }],
  ])("%j reads as the request", (wire, request) => {
    expect(parse(wire)).toEqual(request);
  });

  it.each([
    [`a APPEND ${literal("x")}\r\n`, "APPEND takes a mailbox, optional flags and date, and a message literal"],
    [`a APPEND (INBOX) ${literal("x")}\r\n`, "the mailbox name is missing or not a string"],
    ["a APPEND INBOX (\\Seen)\r\n", "APPEND needs each message as a literal, after its optional flags and date"],
    ['a APPEND INBOX "a quoted message"\r\n', "invalid date-time a quoted message"],
    [`a APPEND INBOX (\\Recent) ${literal("x")}\r\n`, "\\Recent cannot be set by a client"],
    [`a APPEND INBOX "31-Foo-2020 00:00:00 +0000" ${literal("x")}\r\n`, "invalid date-time 31-Foo-2020 00:00:00 +0000"],
    [`a APPEND INBOX ${literal("x")} junk\r\n`, "APPEND needs each message as a literal, after its optional flags and date"],
    ["a APPEND INBOX CATENATE ()\r\n", "CATENATE takes a list of TEXT literal and URL parts"],
    ["a APPEND INBOX CATENATE URL\r\n", "CATENATE takes a list of TEXT literal and URL parts"],
    ['a APPEND INBOX CATENATE (TEXT "not a literal")\r\n', "a CATENATE TEXT part must be a literal"],
    ["a APPEND INBOX CATENATE (URL (x))\r\n", "a CATENATE URL part must be a string"],
    ["a APPEND INBOX CATENATE (URL)\r\n", "a CATENATE URL part must be a string"],
    [`a APPEND INBOX CATENATE (BODY ${literal("x")})\r\n`, "CATENATE parts are TEXT or URL, not BODY"],
    [`a APPEND INBOX CATENATE (${literal("x")} TEXT)\r\n`, "CATENATE parts are TEXT or URL, not that"],
  ])("%j is BAD: %s", (wire, text) => {
    expect(refusalOf(() => parseAppend(argsOfWire(wire)))).toEqual({ status: "BAD", text });
  });
});
