import { describe, expect, it } from "vitest";
import { parseFetch } from "../src/syntax/fetch.js";
import { argsOf, refusalOf } from "./command-line.js";

const plain = { uid: false, qresync: false };
const uidQresync = { uid: true, qresync: true };
const whole = { path: [], text: "", fields: [] };

describe("FETCH arguments (RFC 3501 §6.4.5, RFC 3516, RFC 7162, RFC 8970)", () => {
  it.each([
    // RFC 3501 §6.4.5's example.
    [
      "a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
      plain,
      {
        set: [[2, 4]],
        items: [{ kind: "FLAGS" }, { kind: "section", name: "BODY", spec: { path: [], text: "HEADER.FIELDS", fields: ["DATE", "FROM"] }, peek: false }],
        vanished: false,
      },
    ],
    ["a FETCH 1 ALL", plain, { set: [[1, 1]], items: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }, { kind: "ENVELOPE" }], vanished: false }],
    ["a FETCH 1 fast", plain, { set: [[1, 1]], items: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }], vanished: false }],
    ["a FETCH * FULL", plain, { set: [["*", "*"]], items: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }, { kind: "ENVELOPE" }, { kind: "BODY" }], vanished: false }],
    ["a FETCH $ UID", plain, { set: "$", items: [{ kind: "UID" }], vanished: false }],
    [
      "a FETCH 1,3:* (UID RFC822.SIZE MODSEQ EMAILID THREADID BODYSTRUCTURE)",
      plain,
      { set: [[1, 1], [3, "*"]], items: ["UID", "RFC822.SIZE", "MODSEQ", "EMAILID", "THREADID", "BODYSTRUCTURE"].map((kind) => ({ kind })), vanished: false },
    ],
    [
      "a FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT)",
      plain,
      {
        set: [[1, 1]],
        items: [
          { kind: "section", name: "RFC822", spec: whole, peek: false },
          { kind: "section", name: "RFC822.HEADER", spec: { path: [], text: "HEADER", fields: [] }, peek: true },
          { kind: "section", name: "RFC822.TEXT", spec: { path: [], text: "TEXT", fields: [] }, peek: false },
        ],
        vanished: false,
      },
    ],
    [
      "a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[]<0.2048> BODY[2.HEADER.FIELDS.NOT (Received)]<10>)",
      plain,
      {
        set: [[1, 1]],
        items: [
          { kind: "section", name: "BODY", spec: { path: [1, 2], text: "MIME", fields: [] }, peek: true },
          { kind: "section", name: "BODY", spec: whole, peek: false, partial: [0, 2048] },
          { kind: "section", name: "BODY", spec: { path: [2], text: "HEADER.FIELDS.NOT", fields: ["Received"] }, peek: false, partial: [10, undefined] },
        ],
        vanished: false,
      },
    ],
    // RFC 3516 §4.3
    [
      "a FETCH 1 (BINARY[1.2]<0.100> BINARY.PEEK[] BINARY.SIZE[3])",
      plain,
      {
        set: [[1, 1]],
        items: [
          { kind: "binary", path: [1, 2], peek: false, partial: [0, 100] },
          { kind: "binary", path: [], peek: true },
          { kind: "binary-size", path: [3] },
        ],
        vanished: false,
      },
    ],
    // RFC 8970 §3
    ["a FETCH 1 (PREVIEW)", plain, { set: [[1, 1]], items: [{ kind: "PREVIEW", lazy: false }], vanished: false }],
    ["a FETCH 1 (UID PREVIEW (LAZY))", plain, { set: [[1, 1]], items: [{ kind: "UID" }, { kind: "PREVIEW", lazy: true }], vanished: false }],
    // RFC 7162 §3.1.4.2 and §3.2.6's examples.
    ["a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", plain, { set: [[1, "*"]], items: [{ kind: "FLAGS" }], changedSince: 12345, vanished: false }],
    ["a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)", uidQresync, { set: [[300, 500]], items: [{ kind: "FLAGS" }], changedSince: 12345, vanished: true }],
  ])("%s %o reads as the request", (line, opts, request) => {
    expect(parseFetch(argsOf(line), opts)).toEqual(request);
  });

  it.each([
    ["a FETCH 1", plain, "FETCH takes a sequence set and data items"],
    ["a FETCH", plain, "FETCH takes a sequence set and data items"],
    ["a FETCH 0 FLAGS", plain, "invalid sequence set"],
    ["a FETCH x:y FLAGS", plain, "invalid sequence set"],
    ['a FETCH "1" FLAGS', plain, "invalid sequence set"],
    ["a FETCH 1 ()", plain, "FETCH needs at least one data item"],
    ["a FETCH 1 (FLAGS FROB)", plain, "unknown FETCH data item FROB"],
    ['a FETCH 1 ("FLAGS")', plain, "FETCH data items are atoms"],
    ["a FETCH 1 ENVELOPE[]", plain, "unknown FETCH data item ENVELOPE[]"],
    ["a FETCH 1 BODY[FOO]", plain, "invalid section FOO"],
    ["a FETCH 1 BODY[MIME]", plain, "MIME needs a part number"],
    ["a FETCH 1 BODY[HEADER.FIELDS]", plain, "HEADER.FIELDS needs a list of field names"],
    ["a FETCH 1 BODY[TEXT (X)]", plain, "invalid section"],
    ["a FETCH 1 BODY[]<0.0>", plain, "a partial length must be positive"],
    ["a FETCH 1 BINARY[HEADER]", plain, "BINARY[…] takes only part numbers, like BINARY[1.2]"],
    ["a FETCH 1 BINARY.SIZE[1]<0.10>", plain, "BINARY.SIZE takes no partial range"],
    ["a FETCH 1 BINARY[1]<0.0>", plain, "a partial length must be positive"],
    ["a FETCH 1 (PREVIEW (FUZZY))", plain, "PREVIEW takes (LAZY) as its only modifier"],
    ["a FETCH 1 (PREVIEW ())", plain, "PREVIEW takes (LAZY) as its only modifier"],
    ["a FETCH 1 FLAGS (FROB)", plain, "unknown FETCH modifier FROB"],
    ["a FETCH 1 FLAGS ()", plain, "FETCH modifiers must be a list"],
    ["a FETCH 1 FLAGS CHANGEDSINCE", plain, "FETCH modifiers must be a list"],
    ["a FETCH 1 FLAGS (CHANGEDSINCE x)", plain, "CHANGEDSINCE must be a number"],
    ["a UID FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)", { uid: true, qresync: false }, "VANISHED needs QRESYNC, which is not enabled"],
    ["a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)", { uid: false, qresync: true }, "VANISHED is a UID FETCH modifier"],
    ["a UID FETCH 1 FLAGS (VANISHED)", uidQresync, "VANISHED needs CHANGEDSINCE"],
    // The first problem found is the one answered: the set before the items, the items before the modifiers.
    ["a FETCH 0 FROB (FROB)", plain, "invalid sequence set"],
    ["a FETCH 1 FROB (FROB)", plain, "unknown FETCH data item FROB"],
  ])("%s %o is BAD: %s", (line, opts, text) => {
    expect(refusalOf(() => parseFetch(argsOf(line), opts))).toEqual({ status: "BAD", text });
  });
});
