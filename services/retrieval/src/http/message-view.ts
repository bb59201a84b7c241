/**
 * What the API shows of a message. Summaries come from the structure the mailbox
 * store keeps (ENVELOPE and BODYSTRUCTURE, parsed once at delivery); the full view
 * parses the stored message with mailparser (headers, text, html, attachments).
 * A message mailparser refuses whole (more parts than it reads, a header too large)
 * still gets a view: its header and the parts that can be read one by one, marked
 * `partial`. What a message contains is never a reason for a 5xx.
 * Pure over plain data: no database, no HTTP.
 */
import { simpleParser, type AddressObject, type Attachment, type ParsedMail } from "mailparser";
import { decodeWords, type BodyPart, type Envelope, type EnvelopeAddress, type MessageRecord } from "@correo/mailstore";

export interface AddressView {
  name: string | null;
  address: string;
}

export interface MessageSummary {
  uid: number;
  flags: string[];
  size: number;
  internal_date: string;
  date: string | null;
  subject: string | null;
  from: AddressView[];
  to: AddressView[];
  cc: AddressView[];
  message_id: string | null;
  has_attachments: boolean;
}

export interface AttachmentView {
  /** Position in the message's attachment list, the `index` of its download URL. */
  index: number;
  filename: string | null;
  content_type: string;
  size: number;
  content_id: string | null;
  disposition: string | null;
}

/** Set when the message could not be parsed whole: what was shown of it, and why not all. */
export interface PartialView {
  reason: string;
  /** Leaf parts in the stored structure (BODYSTRUCTURE). */
  parts_total: number;
  /** Of those, the ones whose content is in text, html and attachments. */
  parts_read: number;
}

export interface MessageView extends MessageSummary {
  reply_to: AddressView[];
  in_reply_to: string | null;
  references: string[];
  /** Every header field in order, unfolded, as sent (RFC 2047 words left encoded). */
  headers: { name: string; value: string }[];
  text: string | null;
  /** The HTML part as sent: a web client must sanitise it before showing it. */
  html: string | null;
  attachments: AttachmentView[];
  /** null when the whole message was parsed. */
  partial: PartialView | null;
}

const addresses = (list: EnvelopeAddress[] | null): AddressView[] =>
  (list ?? [])
    // A mailbox without a domain (`From: d`) has an empty host: its address is the local part.
    .filter((a) => a.mailbox !== null && a.host !== null)
    .map((a) => ({ name: a.name === null ? null : decodeWords(a.name), address: a.host === "" ? a.mailbox! : `${a.mailbox}@${a.host}` }));

/** RFC 2183: a part is an attachment when it says so, or when it is a named non-text leaf. */
export function hasAttachments(part: BodyPart): boolean {
  if (part.parts) return part.parts.some(hasAttachments);
  if (part.disposition?.type === "attachment") return true;
  const named = part.params.some(([k]) => k === "name") || (part.disposition?.params.some(([k]) => k === "filename") ?? false);
  return named && part.type !== "text" && part.type !== "multipart";
}

export function summarize(record: Pick<MessageRecord, "uid" | "flags" | "size" | "internalDate" | "envelope" | "bodyStructure">): MessageSummary {
  const e: Envelope = record.envelope;
  return {
    uid: record.uid,
    flags: record.flags,
    size: record.size,
    internal_date: record.internalDate.toISOString(),
    date: e.date,
    subject: e.subject === null ? null : decodeWords(e.subject),
    from: addresses(e.from),
    to: addresses(e.to),
    cc: addresses(e.cc),
    message_id: e.messageId,
    has_attachments: hasAttachments(record.bodyStructure),
  };
}

/**
 * MIME parts mailparser is asked to read in one message (mailsplit's maxChildNodes, its
 * default too); a message with more is read part by part, up to as many leaves.
 */
export const MAX_PARSED_PARTS = 1000;

const OPTIONS = { keepCidLinks: true, skipTextToHtml: true, skipImageLinks: true, maxChildNodes: MAX_PARSED_PARTS } as const;
const parse = (raw: Buffer) => simpleParser(raw, OPTIONS);

function addressList(value: AddressObject | AddressObject[] | undefined): AddressView[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: AddressView[] = [];
  const walk = (entries: AddressObject["value"]) => {
    for (const e of entries) {
      if (e.group) walk(e.group);
      else if (e.address) out.push({ name: e.name || null, address: e.address });
    }
  };
  for (const o of objects) walk(o.value);
  return out;
}

const attachmentView = (a: Attachment, index: number): AttachmentView => ({
  index,
  filename: a.filename ?? null,
  content_type: a.contentType,
  size: a.size,
  content_id: a.cid ?? null,
  disposition: a.contentDisposition ?? null,
});

/** What the view shows of the content, from one parse of the whole message or from its parts one by one. */
interface Content {
  head: Pick<ParsedMail, "subject" | "from" | "to" | "cc" | "replyTo" | "inReplyTo" | "references"> | undefined;
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  partial: PartialView | null;
}

const unfold = (value: string) => value.replace(/\r?\n[ \t]/g, " ").trim();

function headerFields(lines: readonly { line: string }[]): { name: string; value: string }[] {
  return lines.map(({ line }) => {
    const colon = line.indexOf(":");
    return { name: line.slice(0, colon), value: unfold(line.slice(colon + 1)) };
  });
}

/** The header block as fields, when even mailparser's header parse refuses it (RFC 5322 §2.2: name ":" value, folded). */
function rawHeaderFields(raw: Buffer, end: number): { name: string; value: string }[] {
  const fields: { name: string; value: string }[] = [];
  for (const line of raw.toString("utf8", 0, end).split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.push({ name: line.slice(0, colon), value: unfold(line.slice(colon + 1)) });
  }
  return fields;
}

/** The parts that hold content, in order: every leaf of the tree (an attached message is one leaf, as mailparser has it). */
function leavesOf(part: BodyPart, out: BodyPart[] = []): BodyPart[] {
  if (part.parts) for (const p of part.parts) leavesOf(p, out);
  else out.push(part);
  return out;
}

/**
 * Reads the message whole; when mailparser refuses it, reads its header and then each
 * leaf part on its own (a part with its MIME header is an entity mailparser reads),
 * the first MAX_PARSED_PARTS of them, skipping any that it refuses too.
 */
async function readContent(raw: Buffer, structure: BodyPart): Promise<Content> {
  let whole: ParsedMail;
  try {
    whole = await parse(raw);
  } catch (err) {
    return readParts(raw, structure, (err as Error).message);
  }
  return {
    head: whole,
    headers: headerFields(whole.headerLines),
    text: whole.text ?? null,
    html: typeof whole.html === "string" ? whole.html : null,
    attachments: whole.attachments,
    partial: null,
  };
}

async function readParts(raw: Buffer, structure: BodyPart, why: string): Promise<Content> {
  const head = await parse(raw.subarray(0, structure.bodyStart)).catch(() => undefined);
  const leaves = leavesOf(structure);
  const texts: string[] = [];
  const htmls: string[] = [];
  const attachments: Attachment[] = [];
  let read = 0;
  for (const leaf of leaves.slice(0, MAX_PARSED_PARTS)) {
    // A single-part message is its own leaf: its header is the message's.
    const entity = leaf === structure ? raw : raw.subarray(leaf.headerStart, leaf.end);
    const parsed = await parse(entity).catch(() => undefined);
    if (!parsed) continue;
    read++;
    if (parsed.text) texts.push(parsed.text);
    if (typeof parsed.html === "string") htmls.push(parsed.html);
    attachments.push(...parsed.attachments);
  }
  const shown = read === leaves.length ? "all of its parts" : `${read} of its ${leaves.length} parts`;
  return {
    head,
    headers: head ? headerFields(head.headerLines) : rawHeaderFields(raw, structure.bodyStart),
    text: texts.length ? texts.join("\n") : null,
    html: htmls.length ? htmls.join("\n") : null,
    attachments,
    partial: { reason: `the message could not be parsed whole (${why}); shown: its header and ${shown}, read one by one`, parts_total: leaves.length, parts_read: read },
  };
}

/** The full view of a stored message: the summary plus its parsed content. */
export async function viewMessage(record: MessageRecord, raw: Buffer): Promise<MessageView> {
  const content = await readContent(raw, record.bodyStructure);
  const summary = summarize(record);
  const head = content.head;
  const references = head?.references === undefined ? [] : Array.isArray(head.references) ? head.references : [head.references];
  return {
    ...summary,
    // Parsed values where mailparser understands more than the envelope (encoded words, groups).
    ...(head
      ? { subject: head.subject ?? null, from: addressList(head.from), to: addressList(head.to), cc: addressList(head.cc) }
      : {}),
    reply_to: head ? addressList(head.replyTo) : [],
    in_reply_to: head ? (head.inReplyTo ?? null) : record.envelope.inReplyTo,
    references,
    headers: content.headers,
    text: content.text,
    html: content.html,
    attachments: content.attachments.map(attachmentView),
    partial: content.partial,
  };
}

/** One attachment's decoded content (the same list as the view's), or undefined when the message has no attachment at `index`. */
export async function attachmentAt(record: MessageRecord, raw: Buffer, index: number): Promise<{ view: AttachmentView; content: Buffer } | undefined> {
  const { attachments } = await readContent(raw, record.bodyStructure);
  const a = attachments[index];
  return a && { view: attachmentView(a, index), content: a.content };
}
