/**
 * IMAP command syntax (RFC 3501 §9, RFC 9051 §9): a framed line becomes a tag, a
 * command name and generic tokens; each command file reads its own arguments from
 * them. Pure: never throws; malformed input is a ParseError the session answers BAD.
 */
import type { FramedLine } from "./framer.js";

export type Token =
  | { type: "atom"; value: string; section?: Token[]; partial?: [number, number | undefined] }
  /** `binary`: sent as a literal8 `~{n}` (RFC 3516 §4.1), which may hold NULs. */
  | { type: "string"; value: string; bytes: Buffer; literal: boolean; binary?: boolean }
  | { type: "list"; items: Token[] };

export interface ParsedCommand {
  tag: string;
  /** Upper case; "UID FETCH" etc. for UID commands. */
  name: string;
  args: Token[];
}

export class ParseError extends Error {
  constructor(
    message: string,
    readonly tag?: string,
  ) {
    super(message);
    this.name = "ParseError";
  }
}

const TAG = /^[\x21\x23-\x27\x2c-\x5b\x5e-\x7a\x7c\x7e]+$/; // ASTRING-CHAR minus "+" (RFC 3501 §9 tag)

export function parseCommand(line: FramedLine): ParsedCommand | ParseError {
  const first = line.segments[0] ?? "";
  const sp = first.indexOf(" ");
  const tag = sp === -1 ? first : first.slice(0, sp);
  if (!tag || !TAG.test(tag)) return new ParseError("missing or invalid tag");
  try {
    const t = new Tokenizer(line, sp === -1 ? first.length : sp + 1);
    let name = t.word();
    if (!name) throw new ParseError("missing command", tag);
    name = name.toUpperCase();
    if (name === "UID") {
      t.space();
      const sub = t.word();
      if (!sub) throw new ParseError("UID needs a command", tag);
      name = `UID ${sub.toUpperCase()}`;
    }
    const args: Token[] = [];
    while (!t.atEnd()) {
      t.space();
      args.push(t.token());
    }
    return { tag, name, args };
  } catch (e) {
    return e instanceof ParseError ? new ParseError(e.message, tag) : new ParseError(String(e), tag);
  }
}

/** FETCH data items followed by a `[section]` (RFC 3501 §9 fetch-att, RFC 3516 BINARY). */
const SECTION_ITEMS = new Set(["BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"]);

class Tokenizer {
  private seg = 0;
  constructor(
    private readonly line: FramedLine,
    private pos: number,
  ) {}

  private get text(): string {
    return this.line.segments[this.seg]!;
  }

  atEnd(): boolean {
    return this.seg === this.line.segments.length - 1 && this.pos >= this.text.length;
  }

  space(): void {
    if (this.text[this.pos] !== " ") throw new ParseError(`expected a space at column ${this.pos + 1}`);
    this.pos++;
  }

  word(): string {
    const m = /^[A-Za-z0-9.]+/.exec(this.text.slice(this.pos));
    if (!m) return "";
    this.pos += m[0].length;
    return m[0];
  }

  token(stop?: string): Token {
    const c = this.text[this.pos];
    if (c === undefined) throw new ParseError("unexpected end of command");
    if (c === "(") return this.list(")");
    if (c === '"') return this.quoted();
    if (c === "{" || (c === "~" && this.text[this.pos + 1] === "{")) return this.literal();
    return this.atom(stop);
  }

  private list(close: string): Token {
    this.pos++;
    const items: Token[] = [];
    for (;;) {
      if (this.pos >= this.text.length && this.seg >= this.line.segments.length - 1) throw new ParseError("unterminated list");
      if (this.text[this.pos] === close) {
        this.pos++;
        return { type: "list", items };
      }
      if (items.length) this.space();
      items.push(this.token(close));
    }
  }

  private quoted(): Token {
    let out = "";
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (c === "\\") {
        const next = this.text[++i];
        if (next !== '"' && next !== "\\") throw new ParseError("invalid escape in a quoted string");
        out += next;
      } else if (c === '"') {
        this.pos = i + 1;
        return { type: "string", value: out, bytes: Buffer.from(out, "utf8"), literal: false };
      } else out += c;
    }
    throw new ParseError("unterminated quoted string");
  }

  private literal(): Token {
    const rest = this.text.slice(this.pos);
    if (!/^~?\{\d+\+?\}$/.test(rest) || this.seg >= this.line.literals.length) throw new ParseError("a literal must end its line");
    const bytes = this.line.literals[this.seg]!;
    this.seg++;
    this.pos = 0;
    const token: Token = { type: "string", value: bytes.toString("utf8"), bytes, literal: true };
    if (rest.startsWith("~")) token.binary = true;
    return token;
  }

  private atom(stop?: string): Token {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (c === " " || c === "(" || c === ")" || c === '"' || c === "{" || c < " " || c === "\x7f") break;
      // "[" and "]" are ASTRING-CHARs (a mailbox may be named "a[b]"); "[" opens a section
      // only after a FETCH item that takes one, and "]" closes it.
      if (c === "[" && SECTION_ITEMS.has(this.text.slice(start, this.pos).toUpperCase())) break;
      if (c === "]" && stop === "]") break;
      this.pos++;
    }
    const value = this.text.slice(start, this.pos);
    const token: Token = { type: "atom", value };
    if (this.text[this.pos] === "[") {
      this.pos++;
      const section: Token[] = [];
      while (this.text[this.pos] !== "]") {
        if (this.pos >= this.text.length) throw new ParseError("unterminated section");
        if (section.length) this.space();
        section.push(this.token("]"));
      }
      this.pos++;
      token.section = section;
      const m = /^<(\d+)(?:\.(\d+))?>/.exec(this.text.slice(this.pos));
      if (m) {
        token.partial = [Number(m[1]), m[2] === undefined ? undefined : Number(m[2])];
        this.pos += m[0].length;
      }
    } else if (!value) {
      throw new ParseError(`unexpected ${JSON.stringify(this.text[this.pos] ?? "end")}${stop ? "" : ""}`);
    }
    return token;
  }
}

/** An astring or nstring argument as text (atoms and strings alike). */
export function textOf(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.type === "string") return t.value;
  if (t.type === "atom" && !t.section) return t.value;
  return undefined;
}
