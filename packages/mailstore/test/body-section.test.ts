import { describe, expect, it } from "vitest";
import { bodyStructureValue, encodeValue, sectionBytes } from "@correo/imap";
import { describeMessage } from "../src/index.js";

const raw = Buffer.from(
  [
    "Subject: outer",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "first part",
    "--b",
    "Content-Type: message/rfc822",
    "",
    "Subject: inner",
    "From: x@y.z",
    "",
    "inner body",
    "--b--",
    "",
  ].join("\r\n"),
);
const { bodyStructure } = describeMessage(raw);
const section = (path: number[], text: "" | "HEADER" | "TEXT" | "MIME" | "HEADER.FIELDS" = "", fields: string[] = []) =>
  sectionBytes(raw, bodyStructure, { path, text, fields })?.toString();

describe("BODY[section] (RFC 3501 §6.4.5)", () => {
  it("slices parts, MIME headers and encapsulated messages", () => {
    expect(section([])).toBe(raw.toString());
    expect(section([1])).toBe("first part");
    expect(section([1], "MIME")).toBe("Content-Type: text/plain\r\n\r\n");
    expect(section([2], "HEADER")).toBe("Subject: inner\r\nFrom: x@y.z\r\n\r\n");
    expect(section([2], "TEXT")).toBe("inner body");
    expect(section([2, 1])).toBe("inner body");
    expect(section([], "HEADER.FIELDS", ["subject"])).toBe("Subject: outer\r\n\r\n");
    expect(section([3])).toBeUndefined();
  });

  it("encodes BODYSTRUCTURE with sizes and line counts", () => {
    const text = Buffer.concat(encodeValue(bodyStructureValue(bodyStructure, true))).toString();
    // "first part" has no CRLF of its own (the one before "--b" is the delimiter's): 0 lines.
    expect(text).toMatch(/^\(\("TEXT" "PLAIN" \("CHARSET" "us-ascii"\) NIL NIL "7BIT" 10 0 /);
    expect(text).toContain('"MESSAGE" "RFC822"');
    expect(text).toContain('"MIXED" ("BOUNDARY" "b")');
  });
});

/** Joins lines with CRLF, as stored. */
const crlf = (...lines: string[]) => lines.join("\r\n");

describe("part numbers through message/rfc822 (RFC 3501 §6.4.5)", () => {
  const innermost = crlf("From: carla@example.net", "Subject: innermost", "", "deepest text", "");
  const middle = crlf("From: beto@example.net", "Subject: middle", "MIME-Version: 1.0", "Content-Type: message/rfc822", "", innermost);
  const forward = (inner: string) => Buffer.from(crlf("From: ana@example.org", "Subject: fwd", "MIME-Version: 1.0", "Content-Type: message/rfc822", "", inner));
  const slice = (msg: Buffer, path: number[], text: "" | "HEADER" | "TEXT" | "MIME" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" = "", fields: string[] = []) =>
    sectionBytes(msg, describeMessage(msg).bodyStructure, { path, text, fields })?.toString("latin1");

  it("names the whole encapsulated message by 1 when the top-level body is message/rfc822", () => {
    const msg = forward(innermost);
    expect(slice(msg, [1])).toBe(innermost);
    expect(slice(msg, [], "TEXT")).toBe(innermost);
    expect(slice(msg, [1], "HEADER")).toBe("From: carla@example.net\r\nSubject: innermost\r\n\r\n");
    expect(slice(msg, [1], "HEADER.FIELDS", ["subject"])).toBe("Subject: innermost\r\n\r\n");
    expect(slice(msg, [1], "HEADER.FIELDS.NOT", ["subject"])).toBe("From: carla@example.net\r\n\r\n");
    expect(slice(msg, [1], "TEXT")).toBe("deepest text\r\n");
    expect(slice(msg, [1, 1])).toBe("deepest text\r\n");
    // Part 1 of a non-multipart is the part itself: its MIME header is the message's header.
    expect(slice(msg, [1], "MIME")).toContain("Content-Type: message/rfc822\r\n\r\n");
    expect(slice(msg, [2])).toBeUndefined();
    expect(slice(msg, [1, 2])).toBeUndefined();
  });

  it("descends one message per number through nested message/rfc822", () => {
    const msg = forward(middle);
    expect(slice(msg, [1])).toBe(middle);
    expect(slice(msg, [1], "HEADER")).toBe("From: beto@example.net\r\nSubject: middle\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n");
    expect(slice(msg, [1], "TEXT")).toBe(innermost);
    expect(slice(msg, [1, 1])).toBe(innermost);
    expect(slice(msg, [1, 1], "HEADER")).toBe("From: carla@example.net\r\nSubject: innermost\r\n\r\n");
    expect(slice(msg, [1, 1], "TEXT")).toBe("deepest text\r\n");
    expect(slice(msg, [1, 1, 1])).toBe("deepest text\r\n");
  });

  it("numbers the parts of a multipart inside message/rfc822, each with its own MIME header", () => {
    const digest = crlf(
      "From: beto@example.net",
      'Content-Type: multipart/digest; boundary="d"',
      "",
      "--d",
      "",
      "From: uno@example.net",
      "",
      "uno",
      "--d",
      "X-Part: two",
      "",
      "From: dos@example.net",
      "",
      "dos",
      "--d--",
      "",
    );
    const msg = forward(digest);
    expect(slice(msg, [1])).toBe(digest);
    expect(slice(msg, [1, 1])).toBe("From: uno@example.net\r\n\r\nuno");
    expect(slice(msg, [1, 1], "MIME")).toBe("\r\n");
    expect(slice(msg, [1, 1], "HEADER")).toBe("From: uno@example.net\r\n\r\n");
    expect(slice(msg, [1, 2], "MIME")).toBe("X-Part: two\r\n\r\n");
    expect(slice(msg, [1, 2], "TEXT")).toBe("dos");
    expect(slice(msg, [1, 2, 1])).toBe("dos");
    expect(slice(msg, [1, 3])).toBeUndefined();
  });

  it("keeps a non-multipart message's body as part 1 and refuses deeper numbers into a leaf", () => {
    const msg = Buffer.from(crlf("Subject: plain", "", "just text", ""));
    expect(slice(msg, [1])).toBe("just text\r\n");
    expect(slice(msg, [1, 1])).toBeUndefined();
    expect(slice(msg, [1], "HEADER")).toBeUndefined();
  });
});

describe("BODYSTRUCTURE line counts and delimiters (RFC 3501 §7.4.2, RFC 2046 §5.1.1)", () => {
  const lines = (msg: string) => {
    const b = describeMessage(Buffer.from(msg, "latin1")).bodyStructure;
    return b.parts ? b.parts.map((p) => p.lines) : [b.lines];
  };

  it("counts line ends, not a last line without its CRLF", () => {
    expect(lines("Subject: a\r\n\r\none\r\ntwo")).toEqual([1]);
    expect(lines("Subject: a\r\n\r\none\r\ntwo\r\n")).toEqual([2]);
    expect(lines("Subject: a\r\n\r\n")).toEqual([0]);
    expect(lines('Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nx\r\ny\r\n--b\r\n\r\nz\r\n\r\n--b--\r\n')).toEqual([1, 1]);
  });

  it("counts the lines of an encapsulated message the same way", () => {
    const b = describeMessage(Buffer.from("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody")).bodyStructure;
    expect(b.lines).toBe(2);
    expect(b.message!.body.lines).toBe(0);
  });

  it("finds parts whose delimiter lines carry transport padding or a stray CR", () => {
    const msg = 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\r\nContent-Type: text/html\r\n\r\n<p>uno</p>\r\n--b \t\r\nContent-Type: text/plain\r\n\r\ndos\r\n--b--\r\r\n';
    const b = describeMessage(Buffer.from(msg)).bodyStructure;
    expect(b.parts!.map((p) => `${p.type}/${p.subtype}:${msg.slice(p.bodyStart, p.end)}`)).toEqual(["text/html:<p>uno</p>", "text/plain:dos"]);
  });
});
