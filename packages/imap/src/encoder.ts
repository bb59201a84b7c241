/**
 * Response encoding (RFC 3501 §7, §9). Values are plain data; strings become quoted
 * strings when they can, literals otherwise, so no value can break the framing.
 */
export type ImapValue = null | number | string | Buffer | ImapAtom | ImapLiteral8 | ImapValue[];

/** Written as is: flags, keywords, FETCH item names, response codes. */
export interface ImapAtom {
  atom: string;
}

export const atom = (s: string): ImapAtom => ({ atom: s });

/** Octets sent as they are: a literal8 `~{n}` (RFC 3516 §4.2), for BINARY content with NULs. */
export interface ImapLiteral8 {
  literal8: Buffer;
}

export interface EncodeOptions {
  /** UTF8=ACCEPT enabled (RFC 6855): UTF-8 may be sent in quoted strings. */
  utf8?: boolean;
}

const QUOTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Collects a response as text with literals' bytes in between: text pieces are joined
 * and turned into bytes once, instead of one small Buffer per token (a FETCH of 10 000
 * envelopes has millions of tokens).
 */
class ResponseWriter {
  private readonly chunks: Buffer[] = [];
  private text = "";
  /** Literals written: a response text with none is the same whatever the session enabled. */
  literals = 0;

  constructor(private readonly opts: EncodeOptions) {}

  add(s: string): void {
    this.text += s;
  }

  literal(bytes: Buffer): void {
    this.literals++;
    this.text += `{${bytes.length}}\r\n`;
    this.flush();
    this.chunks.push(withoutNuls(bytes));
  }

  value(v: ImapValue): void {
    if (v === null) this.text += "NIL";
    else if (typeof v === "number") this.text += String(Math.trunc(v));
    else if (Buffer.isBuffer(v)) this.literal(v);
    else if (Array.isArray(v)) {
      this.text += "(";
      for (let i = 0; i < v.length; i++) {
        if (i) this.text += " ";
        this.value(v[i]!);
      }
      this.text += ")";
    } else if (typeof v === "object" && "literal8" in v) {
      this.text += `~{${v.literal8.length}}\r\n`;
      this.flush();
      this.chunks.push(v.literal8);
    } else if (typeof v === "object") this.text += v.atom;
    else if (v.length < 1024 && (QUOTABLE_ASCII.test(v) || (this.opts.utf8 && !/[\r\n\0]/.test(v)))) {
      this.text += v.includes('"') || v.includes("\\") ? `"${v.replace(/[\\"]/g, (c) => "\\" + c)}"` : `"${v}"`;
    } else this.literal(Buffer.from(v, "utf8"));
  }

  private flush(): void {
    if (this.text) this.chunks.push(Buffer.from(this.text, "utf8"));
    this.text = "";
  }

  buffers(): Buffer[] {
    this.flush();
    return this.chunks;
  }
}

/**
 * A literal's bytes with each NUL replaced by 0x80, as Dovecot does: RFC 3501 §9 CHAR8
 * excludes %x00, and a literal8 (RFC 3516 BINARY) is only for what a client asks for as
 * binary. One byte for one, so a literal keeps the size RFC822.SIZE and BODYSTRUCTURE
 * announce. The stored message is not changed (a copy is made only when there is a NUL).
 */
export function withoutNuls(bytes: Buffer): Buffer {
  let i = bytes.indexOf(0);
  if (i === -1) return bytes;
  const out = Buffer.from(bytes);
  for (; i !== -1; i = out.indexOf(0, i + 1)) out[i] = 0x80;
  return out;
}

export function encodeValue(v: ImapValue, opts: EncodeOptions = {}): Buffer[] {
  const w = new ResponseWriter(opts);
  w.value(v);
  return w.buffers();
}

/**
 * A value as response text, for storing and sending again as it is (an `atom`): undefined
 * when it needs a literal (a long or 8-bit string), whose form depends on UTF8=ACCEPT.
 */
export function responseText(v: ImapValue): string | undefined {
  const w = new ResponseWriter({});
  w.value(v);
  const chunks = w.buffers();
  return w.literals === 0 ? (chunks.length ? chunks[0]!.toString("latin1") : "") : undefined;
}

/** `* <items…>\r\n` */
export function untagged(items: ImapValue[], opts: EncodeOptions = {}): Buffer {
  const w = new ResponseWriter(opts);
  w.add("*");
  for (const item of items) {
    w.add(" ");
    w.value(item);
  }
  w.add("\r\n");
  const chunks = w.buffers();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export type Status = "OK" | "NO" | "BAD" | "BYE" | "PREAUTH";

export interface Completion {
  status: Status;
  /** Response code without brackets, e.g. `TRYCREATE`, `APPENDUID 17 4`. */
  code?: string;
  text: string;
  /** The handler wrote the tagged response itself (STARTTLS must, before the handshake). */
  written?: boolean;
}

/** Status response, tagged or untagged (`*`): `A1 OK [CODE] text`. Text is one line, always. */
export function statusLine(tag: string, c: Completion): Buffer {
  const text = c.text.replace(/[\r\n]+/g, " ");
  return Buffer.from(`${tag} ${c.status}${c.code ? ` [${c.code}]` : ""} ${text}\r\n`, "utf8");
}

export function continuation(text = ""): Buffer {
  return Buffer.from(`+ ${text}\r\n`);
}
