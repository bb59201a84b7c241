/**
 * What the API shows of a message. Summaries come from the structure the mailbox
 * store keeps (ENVELOPE and BODYSTRUCTURE, parsed once at delivery); the full view
 * parses the stored message with mailparser (headers, text, html, attachments).
 * Pure over plain data: no database, no HTTP.
 */
import { simpleParser, type AddressObject, type Attachment } from "mailparser";
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
}

const addresses = (list: EnvelopeAddress[] | null): AddressView[] =>
  (list ?? [])
    .filter((a) => a.mailbox !== null && a.host !== null)
    .map((a) => ({ name: a.name === null ? null : decodeWords(a.name), address: `${a.mailbox}@${a.host}` }));

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

const parse = (raw: Buffer) => simpleParser(raw, { keepCidLinks: true, skipTextToHtml: true, skipImageLinks: true });

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

/** The full view of a stored message: the summary plus its parsed content. */
export async function viewMessage(record: MessageRecord, raw: Buffer): Promise<MessageView> {
  const parsed = await parse(raw);
  const references = parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : [parsed.references];
  return {
    ...summarize(record),
    // Parsed values where mailparser understands more than the envelope (encoded words, groups).
    subject: parsed.subject ?? null,
    from: addressList(parsed.from),
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    reply_to: addressList(parsed.replyTo),
    in_reply_to: parsed.inReplyTo ?? null,
    references,
    headers: parsed.headerLines.map(({ line }) => {
      const colon = line.indexOf(":");
      return { name: line.slice(0, colon), value: line.slice(colon + 1).replace(/\r?\n[ \t]/g, " ").trim() };
    }),
    text: parsed.text ?? null,
    html: typeof parsed.html === "string" ? parsed.html : null,
    attachments: parsed.attachments.map(attachmentView),
  };
}

/** One attachment's decoded content, or undefined when the message has no attachment at `index`. */
export async function attachmentAt(raw: Buffer, index: number): Promise<{ view: AttachmentView; content: Buffer } | undefined> {
  const parsed = await parse(raw);
  const a = parsed.attachments[index];
  return a && { view: attachmentView(a, index), content: a.content };
}
