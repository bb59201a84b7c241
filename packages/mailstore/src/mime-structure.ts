/**
 * The MIME structure of a stored message, computed once (at delivery or APPEND) and
 * kept as JSON beside it: the IMAP ENVELOPE (RFC 3501 §7.4.2), the BODYSTRUCTURE of
 * every part, and each part's byte offsets so that BODY[section] is a slice of the
 * stored blob, never a re-parse. Pure: bytes in, plain data out.
 */
import { randomBytes } from "node:crypto";
import addressparser from "nodemailer/lib/addressparser/index.js";

// The IMAP data model (ENVELOPE, BODYSTRUCTURE with part offsets) is the IMAP package's;
// this module computes it.
export type { BodyPart, Envelope, EnvelopeAddress } from "@correo/imap";
import type { BodyPart, Envelope, EnvelopeAddress } from "@correo/imap";

export interface MessageDescription {
  envelope: Envelope;
  bodyStructure: BodyPart;
  /** The Date: header, when it parses. */
  sentDate: Date | null;
}

/** Describes a raw RFC 5322 message. Never throws: malformed input yields a text/plain description. */
export function describeMessage(raw: Buffer): MessageDescription {
  const s = raw.toString("latin1");
  const body = parsePart(s, 0, s.length, null, 0);
  const headers = parseHeaderBlock(s, 0, body.bodyStart);
  const envelope = envelopeOf(headers);
  const sent = envelope.date ? new Date(envelope.date) : null;
  return { envelope, bodyStructure: body, sentDate: sent && !Number.isNaN(sent.getTime()) ? sent : null };
}

const MAX_DEPTH = 32;

/** Header fields by lower-case name, values unfolded and decoded as UTF-8 (RFC 6532) when they are. */
export type HeaderMap = Map<string, string[]>;

function parsePart(s: string, start: number, end: number, parentType: string | null, depth: number): BodyPart {
  const { headerEnd, bodyStart } = splitHeader(s, start, end);
  const headers = parseHeaderBlock(s, start, headerEnd);
  // RFC 2046 §5.1.5: parts of multipart/digest default to message/rfc822.
  const fallback = parentType === "multipart/digest" ? "message/rfc822" : "text/plain";
  const ct = parseParamHeader(first(headers, "content-type") ?? fallback);
  let [type, subtype] = ct.value.split("/").map((x) => x.trim().toLowerCase()) as [string, string | undefined];
  if (!type || !subtype) [type, subtype] = fallback.split("/") as [string, string];
  const params = ct.params.length || type !== "text" ? ct.params : [["charset", "us-ascii"] as [string, string]];
  const disp = first(headers, "content-disposition");
  const d = disp ? parseParamHeader(disp) : null;
  const lang = first(headers, "content-language");
  const part: BodyPart = {
    type,
    subtype,
    params,
    id: first(headers, "content-id") ?? null,
    description: first(headers, "content-description") ?? null,
    encoding: (first(headers, "content-transfer-encoding") ?? "7bit").trim(),
    size: end - bodyStart,
    md5: first(headers, "content-md5") ?? null,
    disposition: d ? { type: d.value.trim().toLowerCase(), params: d.params } : null,
    language: lang ? lang.split(",").map((x) => x.trim()).filter(Boolean) : null,
    location: first(headers, "content-location") ?? null,
    headerStart: start,
    bodyStart,
    end,
  };
  const boundary = params.find(([k]) => k === "boundary")?.[1];
  if (type === "multipart" && boundary && depth < MAX_DEPTH) {
    part.parts = splitMultipart(s, bodyStart, end, boundary).map(([a, b]) => parsePart(s, a, b, `multipart/${subtype}`, depth + 1));
    if (part.parts.length === 0) part.parts = [parsePart(s, bodyStart, bodyStart, null, depth + 1)];
  } else if (type === "message" && subtype === "rfc822" && depth < MAX_DEPTH) {
    const inner = parsePart(s, bodyStart, end, null, depth + 1);
    part.message = { envelope: envelopeOf(parseHeaderBlock(s, bodyStart, inner.bodyStart)), body: inner };
    part.lines = countLines(s, bodyStart, end);
  }
  if (type === "text") part.lines = countLines(s, bodyStart, end);
  return part;
}

/** The header ends at the first empty line; the body starts after it. */
/** Where a message's own header block ends (the `bodyStart` describeMessage gives its root), without parsing the rest. */
export function messageBodyStart(s: string): number {
  return splitHeader(s, 0, s.length).bodyStart;
}

function splitHeader(s: string, start: number, end: number): { headerEnd: number; bodyStart: number } {
  if (s.startsWith("\r\n", start)) return { headerEnd: start, bodyStart: Math.min(start + 2, end) };
  if (s.startsWith("\n", start)) return { headerEnd: start, bodyStart: Math.min(start + 1, end) };
  for (let i = s.indexOf("\n", start); i !== -1 && i < end; i = s.indexOf("\n", i + 1)) {
    if (s[i + 1] === "\n") return { headerEnd: i + 1, bodyStart: Math.min(i + 2, end) };
    if (s[i + 1] === "\r" && s[i + 2] === "\n") return { headerEnd: i + 1, bodyStart: Math.min(i + 3, end) };
  }
  return { headerEnd: end, bodyStart: end };
}

/** RFC 2046 §5.1.1: parts lie between delimiter lines; the CRLF before a delimiter belongs to it. */
function splitMultipart(s: string, start: number, end: number, boundary: string): [number, number][] {
  const delimiter = `--${boundary}`;
  const parts: [number, number][] = [];
  let partStart = -1;
  let lineStart = start;
  while (lineStart < end) {
    let nl = s.indexOf("\n", lineStart);
    if (nl === -1 || nl >= end) nl = end;
    if (s.startsWith(delimiter, lineStart)) {
      const after = s.slice(lineStart + delimiter.length, Math.min(lineStart + delimiter.length + 2, end));
      const closing = after === "--";
      // The CRLF preceding the delimiter line is conceptually part of it.
      let partEnd = lineStart;
      if (partEnd > start && s[partEnd - 1] === "\n") partEnd--;
      if (partEnd > start && s[partEnd - 1] === "\r") partEnd--;
      if (partStart !== -1) parts.push([partStart, Math.max(partStart, partEnd)]);
      if (closing) return parts;
      partStart = Math.min(nl + 1, end);
    }
    lineStart = nl + 1;
  }
  if (partStart !== -1) parts.push([partStart, end]);
  return parts;
}

/**
 * The body's size in text lines (RFC 3501 §7.4.2): its line ends, as Dovecot and Cyrus
 * count them. A last line without its own CRLF (in a multipart the CRLF before the
 * delimiter belongs to the delimiter) is not a line.
 */
function countLines(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = s.indexOf("\n", start); i !== -1 && i < end; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

/** Parses a header block (latin1 string positions = bytes) into unfolded fields. */
export function parseHeaderBlock(s: string, start: number, end: number): HeaderMap {
  const map: HeaderMap = new Map();
  const text = s.slice(start, end);
  const lines = text.split(/\r?\n/);
  let current: string | undefined;
  const flush = () => {
    if (current === undefined) return;
    const colon = current.indexOf(":");
    if (colon > 0) {
      const name = current.slice(0, colon).trim().toLowerCase();
      const value = utf8(current.slice(colon + 1).trim());
      const list = map.get(name);
      if (list) list.push(value);
      else map.set(name, [value]);
    }
    current = undefined;
  };
  for (const line of lines) {
    if (/^[ \t]/.test(line) && current !== undefined) current += " " + line.trim();
    else {
      flush();
      if (line !== "") current = line;
    }
  }
  flush();
  return map;
}

/** Header bytes as they arrived are latin1 here; RFC 6532 allows UTF-8, which is decoded when valid. */
function utf8(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(latin1)) return latin1;
  const bytes = Buffer.from(latin1, "latin1");
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return latin1;
  }
}

function first(h: HeaderMap, name: string): string | undefined {
  return h.get(name)?.[0];
}

/** `value; a=b; c="d"` with RFC 2231 continuations (`name*0`, `name*1*`) joined. */
export function parseParamHeader(header: string): { value: string; params: [string, string][] } {
  const pieces: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (quoted) {
      if (c === "\\" && i + 1 < header.length) cur += header[++i];
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ";") {
      pieces.push(cur);
      cur = "";
    } else cur += c;
  }
  pieces.push(cur);
  const value = (pieces.shift() ?? "").trim();
  const plain: [string, string][] = [];
  const continued = new Map<string, { parts: string[]; encoded: boolean }>();
  for (const p of pieces) {
    const eq = p.indexOf("=");
    if (eq <= 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    const val = p.slice(eq + 1).trim();
    const m = /^([^*]+)\*(\d+)?(\*)?$/.exec(key);
    if (m) {
      const entry = continued.get(m[1]!) ?? { parts: [], encoded: false };
      entry.parts[Number(m[2] ?? 0)] = val;
      if (m[3] && (m[2] === undefined || m[2] === "0")) entry.encoded = true;
      continued.set(m[1]!, entry);
    } else plain.push([key, val]);
  }
  for (const [key, { parts, encoded }] of continued) {
    let joined = parts.join("");
    if (encoded) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(joined);
      if (m) {
        try {
          joined = new TextDecoder(m[1] || "utf-8").decode(Buffer.from(m[2]!.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1"));
        } catch {
          joined = m[2]!;
        }
      }
    }
    plain.push([key, joined]);
  }
  return { value, params: plain };
}

function envelopeOf(h: HeaderMap): Envelope {
  const from = addresses(first(h, "from"));
  return {
    date: first(h, "date") ?? null,
    subject: first(h, "subject") ?? null,
    from,
    // RFC 3501 §7.4.2: sender and reply-to default to from.
    sender: addresses(first(h, "sender")) ?? from,
    replyTo: addresses(first(h, "reply-to")) ?? from,
    to: addresses(first(h, "to")),
    cc: addresses(first(h, "cc")),
    bcc: addresses(first(h, "bcc")),
    inReplyTo: first(h, "in-reply-to") ?? null,
    messageId: first(h, "message-id") ?? null,
  };
}

interface ParsedAddress {
  name?: string;
  address?: string;
  group?: ParsedAddress[];
}

/**
 * An address list as ENVELOPE lists it (RFC 3501 §7.4.2): a group is a start marker
 * (mailbox = its name, host NIL), its members, and an end marker (all NIL). A member
 * without an address (`group2: (foo) ;` parses to a bare comment) is no address, so an
 * empty group is only its two markers. Comments are not part of an addr-spec (RFC 5322
 * §3.4.1): `<user (c)@ (c) domain.org>` is user@domain.org.
 */
export function addresses(value: string | undefined): EnvelopeAddress[] | null {
  if (!value) return null;
  const routes = new RouteMarks();
  const parsed = addressparser(routes.mark(withoutAngleComments(value))) as ParsedAddress[];
  const out: EnvelopeAddress[] = [];
  const bare = bareWords(value);
  const one = (a: ParsedAddress) => {
    const { adl, address } = routes.take((a.address ?? "").trim());
    if (address === "") {
      // A lone local part (`From: d`, no "@" and no domain; RFC 5322 §3.4.1 wants one): a mailbox
      // whose host is empty, as Dovecot reads it, not nothing. A comment alone stays no address.
      if (a.name && bare.has(a.name)) out.push({ name: null, adl: null, mailbox: a.name, host: "" });
      return;
    }
    const at = address.lastIndexOf("@");
    out.push({
      name: a.name || null,
      adl,
      mailbox: at === -1 ? address : address.slice(0, at),
      host: at === -1 ? null : address.slice(at + 1),
    });
  };
  for (const a of parsed) {
    if (a.group) {
      out.push({ name: null, adl: null, mailbox: a.name ?? "", host: null });
      a.group.forEach(one);
      out.push({ name: null, adl: null, mailbox: null, host: null });
    } else one(a);
  }
  return out.length ? out : null;
}

/** The words of an address list outside comments, quoted strings and angle-addrs that could be a dot-atom local part. */
function bareWords(value: string): Set<string> {
  let v = value.replace(/"(?:[^"\\]|\\.)*"/g, " ").replace(/<[^>]*>/g, " ");
  for (let prev = ""; prev !== v; ) [prev, v] = [v, v.replace(/\([^()]*\)/g, " ")];
  return new Set(v.split(/[\s,;:]+/).filter((w) => /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+$/.test(w)));
}

/**
 * One nonce per process: made per address list, its random bytes were a tenth of
 * describing a message (six address fields each).
 */
const ROUTE_NONCE = `r${randomBytes(6).toString("hex")}`;
const ROUTE_MARK = new RegExp(`^${ROUTE_NONCE}([0-9a-f]+)${ROUTE_NONCE}`);

/**
 * Source routes (RFC 5322 §4.4 obs-route, `<@relay1,@relay2:user@host>`), which ENVELOPE
 * gives as the address's at-domain-list (RFC 3501 §7.4.2, Dovecot and Cyrus do) and
 * addressparser drops: each is carried through it as a marked prefix of the local part
 * (atext only, with a nonce no address holds) and taken off again.
 */
class RouteMarks {
  private readonly nonce = ROUTE_NONCE;
  private readonly pattern = ROUTE_MARK;

  mark(value: string): string {
    if (!value.includes("<@")) return value;
    return value.replace(/<\s*(@[^<>:"]*?)\s*:\s*/g, (_, route: string) => `<${this.nonce}${Buffer.from(route.replace(/\s+/g, "")).toString("hex")}${this.nonce}`);
  }

  take(address: string): { adl: string | null; address: string } {
    const m = this.pattern.exec(address);
    return m ? { adl: Buffer.from(m[1]!, "hex").toString(), address: address.slice(m[0].length) } : { adl: null, address };
  }
}

/**
 * The comments inside `<…>` taken out: there they are CFWS within the angle-addr (RFC
 * 5322 §3.4), while addressparser would make them the display name. A comment after an
 * addr-spec (`user@domain (Real Name)`) stays: by custom it names the mailbox.
 */
function withoutAngleComments(value: string): string {
  if (!value.includes("<") || !value.includes("(")) return value;
  let out = "";
  let angle = false;
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (depth > 0) {
      if (c === "\\") i++;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
      continue;
    }
    if (quoted) {
      out += c;
      if (c === "\\" && i + 1 < value.length) out += value[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === "<") angle = true;
    else if (c === ">") angle = false;
    else if (c === "(" && angle) {
      depth = 1;
      continue;
    }
    out += c;
  }
  return out;
}
