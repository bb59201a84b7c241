/**
 * A stored message as POP3 sends it: CRLF lines, byte-stuffed, ended by CRLF.CRLF
 * (RFC 1939 §3). Pure functions over Buffers; messages are bytes, not text.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * Splits `content` into lines without their line ends. CRLF is the stored form; a bare
 * LF (or a bare CR at the very end) is tolerated and treated as a line end too, so what
 * goes out always has CRLF. A trailing line end does not make an extra empty line.
 */
export function splitLines(content: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] !== LF) continue;
    const end = i > start && content[i - 1] === CR ? i - 1 : i;
    lines.push(content.subarray(start, end));
    start = i + 1;
  }
  if (start < content.length) {
    let end = content.length;
    if (content[end - 1] === CR) end--;
    lines.push(content.subarray(start, end));
  }
  return lines;
}

/**
 * The body of a multi-line response: every line with CRLF, a line starting with "."
 * gets one more "." in front (RFC 1939 §3 byte-stuffing), then the terminating ".".
 */
export function encodeMultiline(lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  const crlf = Buffer.from("\r\n");
  const dot = Buffer.from(".");
  for (const line of lines) {
    if (line[0] === DOT) parts.push(dot);
    parts.push(line, crlf);
  }
  parts.push(Buffer.from(".\r\n"));
  return Buffer.concat(parts);
}

/**
 * `encodeMultiline(splitLines(content))` for content that arrives in chunks: the same
 * octets, chunk by chunk, with only a possible CR of the chunk boundary held back. A
 * line end, a leading "." or a CRLF may fall across chunks; `push` returns what can be
 * sent of each, `end` the rest and the terminating ".".
 */
export class MultilineEncoder {
  private atLineStart = true;
  /** A CR that ended the last chunk: a line end if an LF follows, else a byte of the line. */
  private heldCR = false;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    // Spans of the chunk that go out unchanged are sent as they are; only a stuffed "."
    // or the CR of a bare LF breaks one. A message already in CRLF without dot lines
    // (nearly every one) comes back as the chunk itself, not copied line by line.
    const out: Buffer[] = [];
    let span = 0;
    let start = 0;
    if (this.heldCR) {
      this.heldCR = false;
      if (chunk[0] !== LF) {
        // A bare CR inside a line is content (splitLines keeps it); it cannot start with "."
        out.push(CR_BYTE);
        this.atLineStart = false;
      }
    }
    for (let lf = chunk.indexOf(LF, start); lf !== -1; lf = chunk.indexOf(LF, start)) {
      const crlf = lf > start && chunk[lf - 1] === CR;
      const end = crlf ? lf - 1 : lf;
      if (this.atLineStart && end > start && chunk[start] === DOT) {
        out.push(chunk.subarray(span, start), DOT_BYTE);
        span = start;
      }
      if (!crlf) {
        out.push(chunk.subarray(span, lf), CRLF);
        span = lf + 1;
      }
      this.atLineStart = true;
      start = lf + 1;
    }
    let end = chunk.length;
    if (end > start && chunk[end - 1] === CR) {
      this.heldCR = true;
      end--;
    }
    if (end > start) {
      if (this.atLineStart && chunk[start] === DOT) {
        out.push(chunk.subarray(span, start), DOT_BYTE);
        span = start;
      }
      this.atLineStart = false;
    }
    out.push(chunk.subarray(span, end));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** The last line's CRLF (a CR at the very end is a line end, as in splitLines) and the terminating ".". */
  end(): Buffer {
    const last = this.heldCR || !this.atLineStart;
    this.heldCR = false;
    this.atLineStart = true;
    return last ? Buffer.from("\r\n.\r\n") : Buffer.from(".\r\n");
  }
}

const CRLF = Buffer.from("\r\n");
const CR_BYTE = Buffer.from("\r");
const DOT_BYTE = Buffer.from(".");

/**
 * RFC 1939 §7 (TOP): the header, the blank line separating it from the body, and the
 * first `bodyLines` lines of the body. A message without a blank line is all header.
 */
export function topLines(content: Buffer, bodyLines: number): Buffer[] {
  const lines = splitLines(content);
  const blank = lines.findIndex((l) => l.length === 0);
  if (blank === -1) return lines;
  return lines.slice(0, blank + 1 + bodyLines);
}
