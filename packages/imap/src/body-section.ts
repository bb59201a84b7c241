/**
 * FETCH data items built from the stored structure: ENVELOPE and BODYSTRUCTURE
 * (RFC 3501 §7.4.2) and BODY[section]<partial> (§6.4.5), sliced from the raw bytes.
 */
import { atom, responseText, type ImapValue } from "./encoder.js";
import type { BodyPart, Envelope, EnvelopeAddress } from "./storage.js";
import { decodeTransferEncoding, type Decoded } from "./transfer-decoding.js";

export function envelopeValue(e: Envelope): ImapValue {
  const addrs = (list: EnvelopeAddress[] | null): ImapValue => (list ? list.map((a) => [a.name, a.adl, a.mailbox, a.host]) : null);
  return [e.date, e.subject, addrs(e.from), addrs(e.sender), addrs(e.replyTo), addrs(e.to), addrs(e.cc), addrs(e.bcc), e.inReplyTo, e.messageId];
}

/**
 * ENVELOPE and BODYSTRUCTURE as response text (RFC 3501 §7.4.2), made once when a message
 * is stored so that FETCH sends them as they are instead of rebuilding both from their
 * JSON for every message (what a client's header listing asks for). Undefined when either
 * needs a literal.
 */
export function summaryTexts(envelope: Envelope, bodyStructure: BodyPart): { envelope: string; bodyStructure: string } | undefined {
  const e = responseText(envelopeValue(envelope));
  const b = e === undefined ? undefined : responseText(bodyStructureValue(bodyStructure, true));
  return e === undefined || b === undefined ? undefined : { envelope: e, bodyStructure: b };
}

function params(p: [string, string][]): ImapValue {
  if (!p.length) return null;
  // A plain loop: flatMap's per-pair arrays were a tenth of a 10 000-message FETCH.
  const out: ImapValue[] = [];
  for (const [k, v] of p) out.push(k.toUpperCase(), v);
  return out;
}

/** BODYSTRUCTURE (extensible = true) or BODY (false). */
export function bodyStructureValue(part: BodyPart, extensible: boolean): ImapValue {
  if (part.parts) {
    const out: ImapValue[] = part.parts.map((p) => bodyStructureValue(p, extensible));
    out.push(part.subtype.toUpperCase());
    if (extensible) out.push(params(part.params), disposition(part), language(part), part.location);
    return out;
  }
  const out: ImapValue[] = [
    part.type.toUpperCase(),
    part.subtype.toUpperCase(),
    params(part.params),
    part.id,
    part.description,
    part.encoding.toUpperCase(),
    part.size,
  ];
  if (part.message) out.push(envelopeValue(part.message.envelope), bodyStructureValue(part.message.body, extensible), part.lines ?? 0);
  else if (part.type === "text") out.push(part.lines ?? 0);
  if (extensible) out.push(part.md5, disposition(part), language(part), part.location);
  return out;
}

function disposition(p: BodyPart): ImapValue {
  return p.disposition ? [p.disposition.type.toUpperCase(), params(p.disposition.params)] : null;
}

function language(p: BodyPart): ImapValue {
  return p.language ? (p.language.length === 1 ? p.language[0]! : p.language) : null;
}

/** A parsed section spec: part path and what of it (RFC 3501 §6.4.5). */
export interface SectionSpec {
  path: number[];
  /** "" whole part; HEADER; HEADER.FIELDS; HEADER.FIELDS.NOT; TEXT; MIME */
  text: "" | "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  fields: string[];
}

/**
 * The part a section's part numbers name (RFC 3501 §6.4.5), or undefined. Numbers
 * index a multipart's parts; part 1 of a non-multipart is that part itself (its body);
 * and only when more numbers follow does a message/rfc822 part stand for the message
 * it encapsulates, so `2` is the whole attached message, `2.1` its first part (or its
 * body) and `2.HEADER` (below) its header.
 */
export function sectionPart(root: BodyPart, path: readonly number[]): BodyPart | undefined {
  let part = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i]!;
    const more = i < path.length - 1;
    if (part.parts) {
      const next = part.parts[n - 1];
      if (!next) return undefined;
      part = next;
    } else if (n !== 1 || (more && !part.message)) return undefined;
    if (more && part.message) part = part.message.body;
  }
  return part;
}

/** The bytes a section names, or undefined when the part does not exist. */
export function sectionBytes(raw: Buffer, root: BodyPart, spec: SectionSpec): Buffer | undefined {
  const part = sectionPart(root, spec.path);
  if (!part) return undefined;
  if (spec.text === "") return spec.path.length === 0 ? raw : raw.subarray(part.bodyStart, part.end);
  if (spec.text === "MIME") return spec.path.length === 0 ? undefined : raw.subarray(part.headerStart, part.bodyStart);
  // HEADER, HEADER.FIELDS and TEXT name a message: the whole one, or an encapsulated message/rfc822.
  const message = spec.path.length === 0 ? root : part.message?.body;
  if (!message) return undefined;
  if (spec.text === "TEXT") return raw.subarray(message.bodyStart, message.end);
  const header = raw.subarray(message.headerStart, message.bodyStart);
  if (spec.text === "HEADER") return header;
  return filterHeader(header, spec.fields, spec.text === "HEADER.FIELDS.NOT");
}

/**
 * RFC 3516 §4.3 BINARY[section-part]: the part's body with its content-transfer encoding
 * removed; `[]` is the whole message as stored. Undefined when the part does not exist.
 */
export function binaryContent(raw: Buffer, root: BodyPart, path: readonly number[]): Decoded | undefined {
  if (path.length === 0) return { bytes: raw };
  const part = sectionPart(root, path);
  if (!part) return undefined;
  return decodeTransferEncoding(raw.subarray(part.bodyStart, part.end), part.encoding);
}

/**
 * RFC 5524 §3 URLFETCH BINARY: the octets from `start` to `end` (a whole message, or a
 * part's body) with every leaf part inside decoded (RFC 3516 §4.3), its header then saying
 * `Content-Transfer-Encoding: binary`; a leaf's own body is just decoded.
 */
export function binaryConverted(raw: Buffer, part: BodyPart, start: number, end: number): Decoded {
  const leaves: BodyPart[] = [];
  const collect = (p: BodyPart) => {
    if (p.parts) p.parts.forEach(collect);
    else if (p.message) collect(p.message.body);
    else leaves.push(p);
  };
  collect(part);
  const out: Buffer[] = [];
  let at = start;
  for (const leaf of leaves.sort((a, b) => a.headerStart - b.headerStart)) {
    const decoded = decodeTransferEncoding(raw.subarray(leaf.bodyStart, leaf.end), leaf.encoding);
    if ("unknownCte" in decoded) return decoded;
    if (decoded.bytes.length === leaf.end - leaf.bodyStart && decoded.bytes.equals(raw.subarray(leaf.bodyStart, leaf.end))) continue;
    if (leaf.headerStart < start) {
      // The range is this leaf's body: nothing of its header is in it.
      out.push(decoded.bytes);
      at = leaf.end;
      continue;
    }
    const header = raw.toString("latin1", leaf.headerStart, leaf.bodyStart);
    const rewritten = header.replace(/^content-transfer-encoding[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*/im, (f) => `Content-Transfer-Encoding: binary${f.endsWith("\r\n") ? "\r\n" : "\n"}`);
    out.push(raw.subarray(at, leaf.headerStart), Buffer.from(rewritten, "latin1"), decoded.bytes);
    at = leaf.end;
  }
  out.push(raw.subarray(at, end));
  return { bytes: Buffer.concat(out) };
}

/**
 * The structure of what `binaryConverted` gives, as Dovecot reports BODYPARTSTRUCTURE
 * beside BINARY (RFC 5524 §3, imaptest urlauth-binary): each decoded leaf's size and lines
 * are those of its decoded octets, each message/rfc822 part's those of its converted body;
 * the rest (types, parameters, the encoding names) stays as stored.
 */
export function convertedStructure(raw: Buffer, part: BodyPart): BodyPart {
  const lines = (b: Buffer) => {
    let n = 0;
    for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
    return n;
  };
  if (part.parts) return { ...part, parts: part.parts.map((p) => convertedStructure(raw, p)) };
  if (part.message) {
    const body = binaryConverted(raw, part.message.body, part.bodyStart, part.end);
    if ("unknownCte" in body) return part;
    return { ...part, size: body.bytes.length, lines: lines(body.bytes), message: { ...part.message, body: convertedStructure(raw, part.message.body) } };
  }
  const decoded = decodeTransferEncoding(raw.subarray(part.bodyStart, part.end), part.encoding);
  if ("unknownCte" in decoded) return part;
  return { ...part, size: decoded.bytes.length, ...(part.lines === undefined ? {} : { lines: lines(decoded.bytes) }) };
}

/** The header fields named (or all but those), each with its folded lines, then the empty line. */
export function filterHeader(header: Buffer, fields: string[], not: boolean): Buffer {
  const wanted = new Set(fields.map((f) => f.toLowerCase()));
  const text = header.toString("latin1");
  const lines = text.split(/(?<=\n)/);
  let out = "";
  let keep = false;
  for (const l of lines) {
    if (l === "\r\n" || l === "\n") continue;
    if (/^[ \t]/.test(l)) {
      if (keep) out += l;
      continue;
    }
    const name = l.slice(0, Math.max(0, l.indexOf(":"))).trim().toLowerCase();
    keep = name !== "" && wanted.has(name) !== not;
    if (keep) out += l.endsWith("\n") ? l : l + "\r\n";
  }
  return Buffer.from(out + "\r\n", "latin1");
}

export function sectionName(spec: SectionSpec): string {
  const path = spec.path.join(".");
  const text = spec.text === "HEADER.FIELDS" || spec.text === "HEADER.FIELDS.NOT" ? `${spec.text} (${spec.fields.map((f) => f.toUpperCase()).join(" ")})` : spec.text;
  return [path, text].filter(Boolean).join(".");
}

export { atom };
