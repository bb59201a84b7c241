/**
 * Response encoding (RFC 3501 §7, §9). Values are plain data; strings become quoted
 * strings when they can, literals otherwise, so no value can break the framing.
 */
export type ImapValue = null | number | string | Buffer | ImapAtom | ImapValue[];

/** Written as is: flags, keywords, FETCH item names, response codes. */
export interface ImapAtom {
  atom: string;
}

export const atom = (s: string): ImapAtom => ({ atom: s });

export interface EncodeOptions {
  /** UTF8=ACCEPT enabled (RFC 6855): UTF-8 may be sent in quoted strings. */
  utf8?: boolean;
}

const QUOTABLE_ASCII = /^[\x20-\x7e]*$/;

export function encodeValue(v: ImapValue, opts: EncodeOptions = {}): Buffer[] {
  if (v === null) return [Buffer.from("NIL")];
  if (typeof v === "number") return [Buffer.from(String(Math.trunc(v)))];
  if (Buffer.isBuffer(v)) return [Buffer.from(`{${v.length}}\r\n`), v];
  if (Array.isArray(v)) {
    const out: Buffer[] = [Buffer.from("(")];
    v.forEach((item, i) => {
      if (i) out.push(Buffer.from(" "));
      out.push(...encodeValue(item, opts));
    });
    out.push(Buffer.from(")"));
    return out;
  }
  if (typeof v === "object") return [Buffer.from(v.atom, "utf8")];
  if (v.length < 1024 && (QUOTABLE_ASCII.test(v) || (opts.utf8 && !/[\r\n\0]/.test(v)))) {
    return [Buffer.from(`"${v.replace(/[\\"]/g, (c) => "\\" + c)}"`, "utf8")];
  }
  const bytes = Buffer.from(v, "utf8");
  return [Buffer.from(`{${bytes.length}}\r\n`), bytes];
}

/** `* <items…>\r\n` */
export function untagged(items: ImapValue[], opts: EncodeOptions = {}): Buffer {
  return line("*", items, opts);
}

function line(prefix: string, items: ImapValue[], opts: EncodeOptions): Buffer {
  const parts: Buffer[] = [Buffer.from(prefix)];
  for (const item of items) parts.push(Buffer.from(" "), ...encodeValue(item, opts));
  parts.push(Buffer.from("\r\n"));
  return Buffer.concat(parts);
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
