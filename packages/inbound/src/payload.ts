import { simpleParser, type Attachment, type HeaderLines } from "mailparser";

/**
 * The JSON document an inbound route's endpoint receives (docs/inbound-routes.md).
 * Built from the raw message as the MX stored it; no I/O (mailparser only parses).
 */
export interface InboundPayload {
  type: "inbound";
  /** Correo's ids: the message in the spool and this recipient's delivery. */
  message_id: string;
  delivery_id: string;
  route_id: string;
  received_at: string;
  envelope: { mail_from: string; rcpt_to: string };
  /** The Message-ID header field, without angle brackets; null when absent. */
  header_message_id: string | null;
  subject: string | null;
  from: string | null;
  to: string | null;
  /** Every header field in order, as [name, value] with the value unfolded (RFC 5322 §2.2.3). */
  headers: [string, string][];
  /** The Authentication-Results field the MX added (RFC 8601), null when it added none. */
  authentication_results: string | null;
  text: string | null;
  html: string | null;
  attachments: InboundAttachment[];
}

export type InboundAttachment = {
  index: number;
  filename: string | null;
  content_type: string;
  size: number;
  content_id: string | null;
  disposition: string | null;
} & ({ content: string; url?: undefined } | { url: string; content?: undefined });

export interface PayloadInput {
  raw: Buffer;
  messageId: string;
  deliveryId: string;
  routeId: string;
  receivedAt: Date;
  envelopeFrom: string;
  recipient: string;
  /** Attachments larger than this travel as `url`. */
  inlineLimitBytes: number;
  /** The signed link to attachment `index` (0-based, in mailparser's order). */
  linkFor(index: number): string;
}

/** RFC 5322 §2.2.3: unfold a field body (CRLF followed by WSP is not part of the value). */
const unfold = (line: string) => line.replace(/\r?\n(?=[ \t])/g, "");

function headerList(lines: HeaderLines): [string, string][] {
  return lines.map((l) => {
    const text = unfold(l.line);
    const colon = text.indexOf(":");
    return [text.slice(0, colon), text.slice(colon + 1).trim()] as [string, string];
  });
}

/**
 * The Authentication-Results field of the receiving MX: the first (topmost) one, which
 * the MX prepends (RFC 8601 §5: fields below it may come from elsewhere and are not
 * this host's verdict).
 */
export function authenticationResults(headers: [string, string][]): string | null {
  return headers.find(([name]) => name.toLowerCase() === "authentication-results")?.[1] ?? null;
}

/** Attachment part `index` of a raw message (the signed link's target), or undefined. */
export async function attachmentOf(raw: Buffer, index: number): Promise<Attachment | undefined> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  return parsed.attachments[index];
}

export async function buildPayload(input: PayloadInput): Promise<InboundPayload> {
  const parsed = await simpleParser(input.raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = headerList(parsed.headerLines);
  const field = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? null;
  return {
    type: "inbound",
    message_id: input.messageId,
    delivery_id: input.deliveryId,
    route_id: input.routeId,
    received_at: input.receivedAt.toISOString(),
    envelope: { mail_from: input.envelopeFrom, rcpt_to: input.recipient },
    header_message_id: parsed.messageId ? parsed.messageId.replace(/^<|>$/g, "") : null,
    subject: parsed.subject ?? null,
    from: field("from"),
    to: field("to"),
    headers,
    authentication_results: authenticationResults(headers),
    text: parsed.text ?? null,
    html: typeof parsed.html === "string" ? parsed.html : null,
    attachments: parsed.attachments.map((a, index) => {
      const meta = {
        index,
        filename: a.filename ?? null,
        content_type: a.contentType,
        size: a.size,
        content_id: a.contentId ? a.contentId.replace(/^<|>$/g, "") : null,
        disposition: a.contentDisposition ?? null,
      };
      return a.size <= input.inlineLimitBytes ? { ...meta, content: a.content.toString("base64") } : { ...meta, url: input.linkFor(index) };
    }),
  };
}
