import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CommandFramer, encodeValue, parseCommand, ParseError, type FramedLine, type Token } from "../src/index.js";

function frame(bytes: Buffer | string, chunks: number[] = []): { lines: FramedLine[]; continues: number; tooBig: number } {
  const f = new CommandFramer({ maxLineOctets: 1000, maxLiteralOctets: 5000 });
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const out = { lines: [] as FramedLine[], continues: 0, tooBig: 0 };
  let at = 0;
  for (const size of [...chunks, buf.length]) {
    for (const ev of f.push(buf.subarray(at, at + size))) {
      if (ev.kind === "line") out.lines.push(ev.line);
      else if (ev.kind === "continue") out.continues++;
      else out.tooBig++;
    }
    at += size;
    if (at >= buf.length) break;
  }
  return out;
}

const parse = (text: string) => {
  const { lines } = frame(text);
  return parseCommand(lines[0]!);
};

describe("IMAP command parser (RFC 3501 §9)", () => {
  it("reads tag, command, atoms, quoted strings, lists and sections", () => {
    const c = parse('a1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From "To")]<0.100>)\r\n');
    expect(c).not.toBeInstanceOf(ParseError);
    const cmd = c as Exclude<typeof c, ParseError>;
    expect(cmd.tag).toBe("a1");
    expect(cmd.name).toBe("UID FETCH");
    const items = (cmd.args[1] as Extract<Token, { type: "list" }>).items;
    const body = items[1] as Extract<Token, { type: "atom" }>;
    expect(body.value).toBe("BODY.PEEK");
    expect(body.partial).toEqual([0, 100]);
    expect(body.section![0]).toMatchObject({ type: "atom", value: "HEADER.FIELDS" });
  });

  it("keeps [ and ] inside an atom that is not a FETCH item with a section (a mailbox name)", () => {
    const c = parse("a1 SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n");
    expect(c).not.toBeInstanceOf(ParseError);
    expect((c as Exclude<typeof c, ParseError>).args).toEqual([{ type: "atom", value: "!#$&'+,-.0123456789:;<=>?@^_`|[}" }]);
    const d = parse("a2 CREATE a[b]/c]\r\n") as Exclude<ReturnType<typeof parse>, ParseError>;
    expect(d.args).toEqual([{ type: "atom", value: "a[b]/c]" }]);
    const f = parse("a3 FETCH 1 (body[TEXT] BINARY.PEEK[1]<0.5>)\r\n") as Exclude<ReturnType<typeof parse>, ParseError>;
    const items = (f.args[1] as Extract<Token, { type: "list" }>).items;
    expect(items[0]).toMatchObject({ value: "body", section: [{ type: "atom", value: "TEXT" }] });
    expect(items[1]).toMatchObject({ value: "BINARY.PEEK", section: [{ type: "atom", value: "1" }], partial: [0, 5] });
  });

  it("reads synchronizing and non-synchronizing literals", () => {
    const { lines, continues } = frame("a2 APPEND INBOX (\\Seen) {5}\r\nhello {3+}\r\nabc\r\n");
    expect(continues).toBe(1);
    const cmd = parseCommand(lines[0]!) as Exclude<ReturnType<typeof parseCommand>, ParseError>;
    expect(cmd.args.map((a) => (a.type === "list" ? "list" : a.value))).toEqual(["INBOX", "list", "hello", "abc"]);
  });

  it("answers BAD material (ParseError) for unterminated strings and lists, with the tag", () => {
    for (const bad of ['a3 LOGIN "ana', "a3 STATUS INBOX (MESSAGES", "a3 FETCH 1 BODY[TEXT"]) {
      const r = parse(bad + "\r\n");
      expect(r).toBeInstanceOf(ParseError);
      expect((r as ParseError).tag).toBe("a3");
    }
    expect(parse("\r\n")).toBeInstanceOf(ParseError);
  });

  it("refuses lines and literals over the limits without losing step", () => {
    const r = frame(`a1 NOOP ${"x".repeat(2000)}\r\na2 NOOP\r\na3 APPEND INBOX {9999}\r\na4 NOOP\r\n`);
    expect(r.tooBig).toBe(2);
    expect(r.lines.map((l) => l.segments[0])).toEqual(["a2 NOOP", "a4 NOOP"]);
  });

  it("property: any string survives encoding as a response value and parsing as an argument", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (s) => {
        const encoded = Buffer.concat(encodeValue(s, { utf8: true }));
        const { lines } = frame(Buffer.concat([Buffer.from("t LOGIN "), encoded, Buffer.from(" x\r\n")]));
        const cmd = parseCommand(lines[0]!);
        expect(cmd).not.toBeInstanceOf(ParseError);
        const arg = (cmd as Exclude<typeof cmd, ParseError>).args[0]!;
        expect(arg.type === "string" ? arg.value : arg).toBe(s);
      }),
    );
  });

  it("property: framing does not depend on how the bytes are chunked", () => {
    const input = 'a1 LOGIN {3+}\r\nana "pw"\r\na2 SELECT INBOX\r\na3 APPEND INBOX {4}\r\nabcd\r\na4 LOGOUT\r\n';
    const whole = frame(input);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 60 }), (chunks) => {
        const split = frame(input, chunks);
        expect(split.lines).toEqual(whole.lines);
        expect(split.continues).toBe(whole.continues);
      }),
    );
  });

  it("property: the parser never throws, whatever the line", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const { lines } = frame(s.replace(/[\r\n]/g, " ") + "\r\n");
        for (const l of lines) {
          const r = parseCommand(l);
          expect(r instanceof ParseError || typeof r.tag === "string").toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
