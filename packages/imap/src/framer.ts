/**
 * Frames the client's byte stream into command lines with their literals
 * (RFC 3501 §4.3, LITERAL+ RFC 7888). Pure state machine: bytes in, events out; the
 * listener writes the continuation requests. Limits: a command line (without its
 * literals) is at most `maxLineOctets`, a literal at most `maxLiteralOctets`.
 */

export interface FramedLine {
  /** The line's text pieces; every piece but the last ends with a literal's `{n}` / `{n+}` / `~{n}`. */
  segments: string[];
  literals: Buffer[];
}

export type FramerEvent =
  | { kind: "line"; line: FramedLine }
  /** A synchronizing literal was announced: answer "+ …" so the client sends it. */
  | { kind: "continue" }
  /** The line or a literal broke a limit; everything of it was discarded. `tag` when it could be read. */
  | { kind: "too-big"; tag: string | undefined; what: "line" | "literal"; fatal?: boolean };

export interface FramerLimits {
  maxLineOctets: number;
  maxLiteralOctets: number;
}

export const DEFAULT_LIMITS: FramerLimits = { maxLineOctets: 64 * 1024, maxLiteralOctets: 64 * 1024 * 1024 };

const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;

export class CommandFramer {
  private buf: Buffer = Buffer.alloc(0);
  private segments: string[] = [];
  private literals: Buffer[] = [];
  private lineOctets = 0;
  /** Bytes of literal still expected, and whether they are being discarded. */
  private literalLeft = 0;
  private literalChunks: Buffer[] = [];
  private discardLiteral = false;
  private discardLine = false;
  private discardTag: string | undefined;

  constructor(private readonly limits: FramerLimits = DEFAULT_LIMITS) {}

  /** Set after a fatal event: nothing more is framed. */
  closed = false;

  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (this.closed) return events;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buf.length);
        if (take === 0) break;
        if (!this.discardLiteral) this.literalChunks.push(this.buf.subarray(0, take));
        this.buf = this.buf.subarray(take);
        this.literalLeft -= take;
        if (this.literalLeft === 0 && !this.discardLiteral) {
          this.literals.push(Buffer.concat(this.literalChunks));
          this.literalChunks = [];
        }
        if (this.literalLeft === 0 && this.discardLiteral) {
          this.discardLiteral = false;
          this.discardLine = true;
        }
        continue;
      }
      const lf = this.buf.indexOf(0x0a);
      if (lf === -1) {
        if (this.lineOctets + this.buf.length > this.limits.maxLineOctets) {
          this.startDiscarding(this.buf);
          this.buf = Buffer.alloc(0);
        }
        break;
      }
      const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
      const piece = this.buf.subarray(0, end);
      this.buf = this.buf.subarray(lf + 1);
      this.lineOctets += piece.length;
      if (this.discardLine || this.lineOctets > this.limits.maxLineOctets) {
        if (!this.discardLine) this.startDiscarding(piece);
        // A discarded line may still announce a literal that must be skipped.
        const m = LITERAL_AT_END.exec(piece.toString("latin1"));
        if (m && m[3] === "+") {
          this.literalLeft = Number(m[2]);
          this.discardLiteral = true;
          continue;
        }
        events.push({ kind: "too-big", tag: this.discardTag, what: this.discardWhat });
        this.reset();
        continue;
      }
      const text = piece.toString("utf8");
      const m = LITERAL_AT_END.exec(text);
      this.segments.push(text);
      if (!m) {
        events.push({ kind: "line", line: { segments: this.segments, literals: this.literals } });
        this.reset();
        continue;
      }
      const size = Number(m[2]);
      const nonSync = m[3] === "+";
      if (size > this.limits.maxLiteralOctets) {
        this.discardTag = tagOf(this.segments[0]!);
        this.discardWhat = "literal";
        // A synchronizing literal is never sent without "+", so the command ends here. A
        // non-synchronizing one is on its way and cannot be told apart from commands
        // safely: RFC 7888 §4 lets the server refuse it and close the connection.
        events.push({ kind: "too-big", tag: this.discardTag, what: "literal", fatal: nonSync });
        this.reset();
        if (nonSync) {
          this.buf = Buffer.alloc(0);
          this.closed = true;
          return events;
        }
        continue;
      }
      if (!nonSync) events.push({ kind: "continue" });
      this.literalLeft = size;
      if (size === 0) this.literals.push(Buffer.alloc(0));
    }
    return events;
  }

  private discardWhat: "line" | "literal" = "line";

  private startDiscarding(first: Buffer): void {
    this.discardLine = true;
    this.discardWhat = "line";
    this.discardTag = tagOf(this.segments[0] ?? first.subarray(0, 100).toString("utf8"));
  }

  private reset(): void {
    this.segments = [];
    this.literals = [];
    this.lineOctets = 0;
    this.discardLine = false;
    this.discardTag = undefined;
    this.discardWhat = "line";
  }
}

function tagOf(text: string): string | undefined {
  const m = /^([^\s(){%*"\\\]+]+) /.exec(text);
  return m?.[1];
}
