import { describe, expect, it } from "vitest";
import { atom, encodeValue, untagged } from "../src/encoder.js";

const text = (b: Buffer | Buffer[]) => (Array.isArray(b) ? Buffer.concat(b) : b).toString("utf8");

describe("response encoder", () => {
  it("writes NIL, numbers, atoms, quoted strings and nested lists", () => {
    expect(text(untagged([3, atom("FETCH"), [atom("UID"), 7, atom("FLAGS"), [atom("\\Seen")], atom("X"), null, "a \"q\" \\ b"]]))).toBe(
      '* 3 FETCH (UID 7 FLAGS (\\Seen) X NIL "a \\"q\\" \\\\ b")\r\n',
    );
    expect(text(encodeValue([]))).toBe("()");
    expect(text(encodeValue(2.9))).toBe("2");
  });

  it("sends a string as a literal when it cannot be quoted: CR, LF, 8-bit without UTF8=ACCEPT, 1024 octets or more", () => {
    expect(text(untagged(["a\r\nb"]))).toBe("* {4}\r\na\r\nb\r\n");
    expect(text(untagged(["café"]))).toBe("* {5}\r\ncafé\r\n");
    expect(text(untagged(["café"], { utf8: true }))).toBe('* "café"\r\n');
    expect(text(untagged(["x".repeat(1024)]))).toBe(`* {1024}\r\n${"x".repeat(1024)}\r\n`);
  });

  it("passes bytes through as literals, in place, whatever they hold but NUL", () => {
    const bytes = Buffer.from([1, 255, 13, 10, 41]);
    const out = untagged([1, atom("FETCH"), [atom("BODY[]"), bytes, atom("UID"), 9]]);
    expect(out.equals(Buffer.concat([Buffer.from("* 1 FETCH (BODY[] {5}\r\n"), bytes, Buffer.from(" UID 9)\r\n")]))).toBe(true);
  });

  it("sends each NUL of a literal as 0x80, keeping its length (RFC 3501 §9: CHAR8 excludes %x00)", () => {
    const stored = Buffer.from([0x61, 0, 0, 0x62, 0]);
    const out = untagged([1, atom("FETCH"), [atom("BODY[]"), stored]]);
    expect(out.equals(Buffer.from([...Buffer.from("* 1 FETCH (BODY[] {5}\r\n"), 0x61, 0x80, 0x80, 0x62, 0x80, ...Buffer.from(")\r\n")]))).toBe(true);
    // The stored bytes are not touched.
    expect([...stored]).toEqual([0x61, 0, 0, 0x62, 0]);
    expect(untagged(["a\0b"]).equals(Buffer.from([...Buffer.from("* {3}\r\n"), 0x61, 0x80, 0x62, 13, 10]))).toBe(true);
  });
});
