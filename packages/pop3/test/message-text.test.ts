import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encodeMultiline, MultilineEncoder, splitLines, topLines } from "../src/message-text.js";

const b = (s: string) => Buffer.from(s, "latin1");
const text = (lines: Buffer[]) => lines.map((l) => l.toString("latin1"));

describe("message text for POP3 (RFC 1939 §3)", () => {
  it("splits CRLF lines, and bare LF lines too", () => {
    expect(text(splitLines(b("a\r\nb\r\n")))).toEqual(["a", "b"]);
    expect(text(splitLines(b("a\nb\n\nc")))).toEqual(["a", "b", "", "c"]);
    expect(text(splitLines(b("a\r\n\r\n")))).toEqual(["a", ""]);
    expect(text(splitLines(b("")))).toEqual([]);
  });

  it("byte-stuffs lines starting with '.' and ends with CRLF.CRLF", () => {
    expect(encodeMultiline(splitLines(b("a\r\n.\r\n..b\r\n.c\r\n"))).toString("latin1")).toBe("a\r\n..\r\n...b\r\n..c\r\n.\r\n");
  });

  it("turns bare LF into CRLF", () => {
    expect(encodeMultiline(splitLines(b("Subject: x\n\nbody\n"))).toString("latin1")).toBe("Subject: x\r\n\r\nbody\r\n.\r\n");
  });

  it("TOP keeps the header, the blank line and the first n body lines", () => {
    const msg = b("A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\n");
    expect(text(topLines(msg, 0))).toEqual(["A: 1", "B: 2", ""]);
    expect(text(topLines(msg, 1))).toEqual(["A: 1", "B: 2", "", "one"]);
    expect(text(topLines(b("A: 1\r\nB: 2\r\n"), 5))).toEqual(["A: 1", "B: 2"]);
  });

  it("a client that un-stuffs gets the CRLF message back, whatever its bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[^\r\n]*$/), { maxLength: 20 }), (lines) => {
        const message = b(lines.map((l) => l + "\r\n").join(""));
        const wire = encodeMultiline(splitLines(message)).toString("latin1");
        expect(wire.endsWith("\r\n.\r\n") || wire === ".\r\n").toBe(true);
        const received = wire.split("\r\n").slice(0, -2); // drop the "." line and the empty tail
        const unstuffed = received.map((l) => (l.startsWith(".") ? l.slice(1) : l));
        expect(unstuffed.map((l) => l + "\r\n").join("")).toBe(message.toString("latin1"));
      }),
    );
  });

  it("streamed in chunks cut anywhere, sends the same octets as the whole message (CR, LF and '.' across cuts)", () => {
    const bytes = fc.array(fc.constantFrom(0x0d, 0x0a, 0x2e, 0x61, 0x00, 0xff), { maxLength: 64 });
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(64), { maxLength: 8 }), (octets, cuts) => {
        const message = Buffer.from(octets);
        const points = [...new Set(cuts.map((c) => Math.min(c, message.length)))].sort((x, y) => x - y);
        const encoder = new MultilineEncoder();
        const out: Buffer[] = [];
        let from = 0;
        for (const at of [...points, message.length]) {
          out.push(encoder.push(message.subarray(from, at)));
          from = at;
        }
        out.push(encoder.end());
        expect(Buffer.concat(out).toString("latin1")).toBe(encodeMultiline(splitLines(message)).toString("latin1"));
      }),
      { numRuns: 2000 },
    );
  });

  it("streams a line end split between chunks as one CRLF and stuffs a '.' that starts a chunk", () => {
    const encoder = new MultilineEncoder();
    const parts = [b("a\r"), b("\n.b\r"), b("x\r\n"), b(".")];
    const wire = Buffer.concat([...parts.map((p) => encoder.push(p)), encoder.end()]).toString("latin1");
    expect(wire).toBe("a\r\n..b\rx\r\n..\r\n.\r\n");
  });
});
