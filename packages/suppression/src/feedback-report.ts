import { simpleParser, type HeaderValue } from "mailparser";

/**
 * An Abuse Reporting Format report (RFC 5965), parsed: what a mailbox provider sends when
 * its user marks a message as spam. Pure over the raw message (mailparser does the MIME).
 */
export interface FeedbackReport {
  /** RFC 5965 §3.1 Feedback-Type: abuse, fraud, virus, other, not-spam (RFC 6650 also auth-failure). */
  feedbackType: string;
  userAgent: string | undefined;
  /** RFC 5965 §3.2 Original-Rcpt-To, lower-cased addresses (may repeat; may be absent). */
  originalRcptTo: string[];
  originalMailFrom: string | undefined;
  arrivalDate: string | undefined;
  reportingMta: string | undefined;
  /** The returned message's Message-ID (with angle brackets), when its header was included. */
  originalMessageId: string | undefined;
  /** Correo message ids found in the returned message's `Received: … (Correo) … id <uuid>` fields. */
  correoMessageIds: string[];
  /** The returned message's To/Cc addresses: the recipient when Original-Rcpt-To is missing (often redacted). */
  originalHeaderRecipients: string[];
}

export type ParsedReport = { kind: "report"; report: FeedbackReport } | { kind: "not-a-report"; why: string };

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const CORREO_RECEIVED = new RegExp(`\\(Correo\\)[^;]*\\bid\\s+(${UUID})\\b`, "i");

/** RFC 5965 §3.1: the second part holds header-like fields (RFC 5322 §2.2 syntax, unfolded here). */
export function feedbackFields(text: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  const unfolded = text.replace(/\r?\n[ \t]+/g, " ");
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([!-9;-~]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1]!.toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), m[2]!.trim()]);
  }
  return fields;
}

const bare = (addr: string) => addr.replace(/^\s*<|>\s*$/g, "").trim().toLowerCase();

/**
 * RFC 5965 §2: a multipart/report with report-type=feedback-report (RFC 6522), whose
 * second part is message/feedback-report and whose third is the original message
 * (message/rfc822) or its header (text/rfc822-headers). Anything else is not a report.
 */
export async function parseFeedbackReport(raw: Buffer): Promise<ParsedReport> {
  const top = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const ct = top.headers.get("content-type") as { value?: string; params?: Record<string, string> } | undefined;
  if (ct?.value?.toLowerCase() !== "multipart/report") return { kind: "not-a-report", why: `Content-Type is ${ct?.value ?? "missing"}, not multipart/report (RFC 5965 §2)` };
  if (ct.params?.["report-type"]?.toLowerCase() !== "feedback-report") {
    return { kind: "not-a-report", why: `report-type is ${ct.params?.["report-type"] ?? "missing"}, not feedback-report (RFC 5965 §2)` };
  }
  const boundary = ct.params?.boundary;
  if (!boundary) return { kind: "not-a-report", why: "multipart/report without a boundary" };
  const parts = bodyParts(raw, boundary);
  const second = parts.find((p) => /^message\/feedback-report\b/i.test(p.contentType));
  if (!second) return { kind: "not-a-report", why: "no message/feedback-report part (RFC 5965 §2 item c)" };
  const fields = feedbackFields(second.body.toString("utf8"));
  const feedbackType = fields.get("feedback-type")?.[0]?.toLowerCase();
  if (!feedbackType) return { kind: "not-a-report", why: "the feedback report has no Feedback-Type field (RFC 5965 §3.1)" };
  // RFC 5965 §2 item d: the third part, the original message or its header.
  const third = parts.find((p) => /^(message\/rfc822|text\/rfc822-headers)\b/i.test(p.contentType));
  let originalMessageId: string | undefined;
  let correoMessageIds: string[] = [];
  let originalHeaderRecipients: string[] = [];
  if (third) {
    const original = await simpleParser(third.body, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    const id = original.headers.get("message-id");
    originalMessageId = typeof id === "string" ? (id.startsWith("<") ? id : `<${id}>`) : undefined;
    const received = original.headers.get("received") as HeaderValue | HeaderValue[] | undefined;
    const lines = (Array.isArray(received) ? received : received === undefined ? [] : [received]).map(String);
    correoMessageIds = [...new Set(lines.map((l) => CORREO_RECEIVED.exec(l.replace(/\s+/g, " "))?.[1]?.toLowerCase()).filter((x): x is string => !!x))];
    const listed = [original.to, original.cc].flat().filter((x) => x !== undefined);
    originalHeaderRecipients = listed.flatMap((a) => a.value.map((v) => v.address?.toLowerCase()).filter((x): x is string => !!x));
  }
  return {
    kind: "report",
    report: {
      feedbackType,
      userAgent: fields.get("user-agent")?.[0],
      originalRcptTo: (fields.get("original-rcpt-to") ?? []).map(bare).filter((a) => a !== ""),
      originalMailFrom: fields.get("original-mail-from")?.[0] && bare(fields.get("original-mail-from")![0]!),
      arrivalDate: fields.get("arrival-date")?.[0],
      reportingMta: fields.get("reporting-mta")?.[0],
      originalMessageId,
      correoMessageIds,
      originalHeaderRecipients,
    },
  };
}

/**
 * The top-level body parts of a multipart entity (RFC 2046 §5.1.1: a delimiter is CRLF
 * "--" boundary, the last one followed by "--"), each with its Content-Type and its body
 * (undecoded: RFC 2046 §5.2.1 allows only 7bit, 8bit or binary for message/rfc822).
 * mailparser flattens a message/rfc822 part into the text, so the parts are cut here.
 */
function bodyParts(raw: Buffer, boundary: string): { contentType: string; body: Buffer }[] {
  const text = raw.toString("latin1");
  const delimiter = `\n--${boundary}`;
  const out: { contentType: string; body: Buffer }[] = [];
  let at = text.indexOf(delimiter);
  while (at >= 0) {
    const lineEnd = text.indexOf("\n", at + 1);
    if (text.startsWith("--", at + delimiter.length) || lineEnd < 0) break;
    const next = text.indexOf(delimiter, lineEnd);
    const end = next < 0 ? text.length : next;
    let part = text.slice(lineEnd + 1, end);
    if (part.endsWith("\r")) part = part.slice(0, -1);
    const split = /\r?\n\r?\n/.exec(part);
    const head = split ? part.slice(0, split.index) : part;
    const body = split ? part.slice(split.index + split[0].length) : "";
    const ctype = /^content-type\s*:\s*([^;\r\n]+)/im.exec(head.replace(/\r?\n[ \t]+/g, " "))?.[1]?.trim() ?? "text/plain";
    out.push({ contentType: ctype, body: Buffer.from(body, "latin1") });
    at = next;
  }
  return out;
}
