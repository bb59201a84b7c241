/**
 * The header section of a raw RFC 5322 message, read only as far as Correo needs:
 * which fields are there, the first value of a few. Not a MIME parser.
 */
export interface HeaderSection {
  /** Byte length of the header section including the empty line that ends it (0 when there is none). */
  length: number;
  /** Unfolded fields in order, names as written. */
  fields: { name: string; value: string }[];
}

const END = Buffer.from("\r\n\r\n");

export function readHeaderSection(raw: Buffer): HeaderSection {
  const end = raw.indexOf(END);
  const headerText = (end < 0 ? raw : raw.subarray(0, end)).toString("latin1");
  const fields: { name: string; value: string }[] = [];
  for (const line of headerText.split("\r\n")) {
    // RFC 5322 §2.2.3: a line starting with white space continues the previous field.
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1]!.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { length: end < 0 ? 0 : end + 4, fields };
}

/**
 * Whether the header section (all of the message when it has no empty line) holds a NUL.
 * RFC 5322 §2.2 allows none in a field, and PostgreSQL keeps none in text: the spool's
 * Subject and Message-ID columns and the mailbox's envelope would refuse it, so such a
 * message is refused whole at the edge, as permanent (no retry would change it).
 */
export function headerHasNul(raw: Buffer, section: HeaderSection): boolean {
  const nul = raw.indexOf(0);
  return nul >= 0 && (section.length === 0 || nul < section.length);
}

export function headerValue(section: HeaderSection, name: string): string | undefined {
  const lower = name.toLowerCase();
  return section.fields.find((f) => f.name.toLowerCase() === lower)?.value;
}

export function countHeader(section: HeaderSection, name: string): number {
  const lower = name.toLowerCase();
  return section.fields.filter((f) => f.name.toLowerCase() === lower).length;
}

/**
 * The message without the header fields named (any case), each with its continuation
 * lines (RFC 5322 §2.2.3); the body and every other field stay byte for byte.
 */
export function removeHeaderFields(raw: Buffer, names: readonly string[]): Buffer {
  if (names.length === 0) return raw;
  const drop = new Set(names.map((n) => n.toLowerCase()));
  const end = raw.indexOf(END);
  const headerEnd = end < 0 ? raw.length : end + 2; // keep the CRLF of the last field with it
  const kept: Buffer[] = [];
  let dropping = false;
  for (let at = 0; at < headerEnd; ) {
    const eol = raw.indexOf("\r\n", at);
    const next = eol < 0 || eol + 2 > headerEnd ? headerEnd : eol + 2;
    const line = raw.subarray(at, next);
    const continuation = line[0] === 0x20 || line[0] === 0x09;
    if (!continuation) {
      const colon = line.indexOf(":");
      dropping = colon > 0 && drop.has(line.subarray(0, colon).toString("latin1").trim().toLowerCase());
    }
    if (!dropping) kept.push(line);
    at = next;
  }
  return Buffer.concat([...kept, raw.subarray(headerEnd)]);
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** RFC 5322 §3.3 date-time in UTC, e.g. "Thu, 26 Nov 2026 10:00:00 +0000". */
export function rfc5322Date(d: Date): string {
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/** Prepends header lines (each without CRLF) to a raw message. */
export function prependHeaders(raw: Buffer, lines: string[]): Buffer {
  if (lines.length === 0) return raw;
  return Buffer.concat([Buffer.from(lines.map((l) => `${l}\r\n`).join(""), "utf8"), raw]);
}
