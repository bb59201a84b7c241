/**
 * Content-transfer decoding for FETCH BINARY (RFC 3516 §4.3, RFC 2045 §6.7 and §6.8):
 * table tests of what each encoding's octets decode to.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, decodeQuotedPrintable, decodeTransferEncoding } from "../src/transfer-decoding.js";
import { encodeValue, parseCommand, CommandFramer } from "../src/index.js";

const b = (s: string) => Buffer.from(s, "latin1");
const text = (x: Buffer) => x.toString("latin1");

describe("quoted-printable (RFC 2045 §6.7)", () => {
  it.each([
    ["=3D is the octet it names, in either case", "a=3Db=3db\r\n", "a=b=b\r\n"],
    ["a soft line break joins two lines", "foo=\r\nbar\r\n", "foobar\r\n"],
    ["whitespace after a soft break's = is transport padding", "foo\t \t= \r\n=62\r\n", "foo\t \tb\r\n"],
    ["trailing whitespace on a line is deleted (rule 3)", "hello  \r\nfoo \t\r\n", "hello\r\nfoo\r\n"],
    ["an = without two hex digits stays as it is", "a=zz=\tb\r\n", "a=zz=\tb\r\n"],
    ["underscore is a plain character (only RFC 2047 makes it a space)", "foo_bar\r\n", "foo_bar\r\n"],
    ["a last line without a line break gets none", "x=41", "xA"],
    ["a bare LF ends a line as CRLF does", "a\nb=\nc", "a\r\nbc"],
  ])("%s", (_why, input, decoded) => {
    expect(text(decodeQuotedPrintable(b(input)))).toBe(decoded);
  });
});

describe("base64 (RFC 2045 §6.8)", () => {
  it.each([
    ["line breaks and spaces between groups are ignored", "  aGVs    \r\n bG8g  \r\n   d29y  \t \r\n    bGQ= \r\n", "hello world"],
    ["a group split over lines", "\r\naGVs\r\nbG8gd29y\r\nbGQ=\r\n", "hello world"],
    ["octets that are not text come back exactly", "YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6", "abcdefg\rhijkl\r\nmno\npqrstuvqxyz"],
    ["the first = ends the data", "QQ==QkI=", "A"],
    ["a NUL octet", "AC3k", "\x00-\xe4"],
  ])("%s", (_why, input, decoded) => {
    expect(text(decodeBase64(b(input)))).toBe(decoded);
  });
});

describe("decodeTransferEncoding", () => {
  it("leaves 7bit, 8bit and binary bodies as they are, in any case", () => {
    for (const cte of ["7bit", "8BIT", "Binary", ""]) expect(decodeTransferEncoding(b("a\x00b"), cte)).toEqual({ bytes: b("a\x00b") });
  });

  it("names an encoding it does not know, for NO [UNKNOWN-CTE]", () => {
    expect(decodeTransferEncoding(b("x"), " x-uuencode ")).toEqual({ unknownCte: "x-uuencode" });
  });
});

describe("literal8 (RFC 3516 §4.2)", () => {
  it("is sent as ~{n} with its octets unchanged, NULs included", () => {
    expect(Buffer.concat(encodeValue({ literal8: b("a\x00b") })).toString("latin1")).toBe("~{3}\r\na\x00b");
  });

  it("is read from a command as a string that says it was binary", () => {
    const [event] = new CommandFramer().push(b("a APPEND INBOX ~{3+}\r\nx\x00y\r\n"));
    if (event?.kind !== "line") throw new Error("no line");
    const parsed = parseCommand(event.line);
    if (parsed instanceof Error) throw parsed;
    expect(parsed.args[1]).toMatchObject({ type: "string", literal: true, binary: true });
    expect(text((parsed.args[1] as { bytes: Buffer }).bytes)).toBe("x\x00y");
  });
});

/** RFC 2045 §6.7 rules 1, 2 and 5: any octets, quoted-printable-encoded in 76-character lines. */
function encodeQuotedPrintable(bytes: Uint8Array): string {
  let out = "";
  let line = "";
  for (const c of bytes) {
    const piece = (c >= 33 && c <= 126 && c !== 61) || c === 32 ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, "0")}`;
    if (line.length + piece.length > 75) {
      out += line + "=\r\n";
      line = "";
    }
    line += piece;
  }
  // Rule 3: a space at the end of a line would be padding; encode it.
  return out + line.replace(/ $/, "=20");
}

describe("decoding, property-based", () => {
  it("base64 of any octets, in lines of any length, decodes to those octets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (bytes, width) => {
        const b64 = Buffer.from(bytes).toString("base64");
        const lines = b64.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
        expect(decodeBase64(Buffer.from(lines.join("\r\n") + "\r\n", "latin1"))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it("quoted-printable of any octets decodes to those octets", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeQuotedPrintable(Buffer.from(encodeQuotedPrintable(bytes), "latin1"))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom("base64", "quoted-printable", "7bit", "x-foo"), (bytes, cte) => {
        decodeTransferEncoding(Buffer.from(bytes), cte);
      }),
    );
  });
});
