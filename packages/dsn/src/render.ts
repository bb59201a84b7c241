import { decodeXtext, oneLine, type DsnAction } from "./status.js";

/**
 * RFC 3464 delivery status notification, pure: a multipart/report (RFC 6522) with a
 * human-readable part, the message/delivery-status part, and the original message
 * (RET=FULL, message/rfc822) or its header (RET=HDRS, text/rfc822-headers).
 */
export interface DsnRecipient {
  /** RFC 3464 §2.3.2 Final-Recipient: the address the relay tried. */
  finalRecipient: string;
  /** ORCPT as given at submission, e.g. 'rfc822;bob@example.com' (xtext). */
  originalRecipient?: string | null;
  action: DsnAction;
  status: string;
  /** Host that gave the reply, as a DNS name. */
  remoteMta?: string | null;
  diagnosticCode?: string | undefined;
  lastAttemptDate?: Date | null;
  /** Delayed only: when the relay gives up. */
  willRetryUntil?: Date;
}

export interface DsnInput {
  /** RFC 3464 §2.2.2 Reporting-MTA: CORREO_HOSTNAME. */
  reportingMta: string;
  /** The original envelope sender: the DSN's recipient. */
  to: string;
  /** RFC 3461 ENVID (xtext), when given. */
  envelopeId?: string | null;
  arrivalDate: Date;
  /** The original message, octets as accepted. */
  original: Buffer;
  /** RFC 3461 §4.3 RET; unset: FULL up to `fullLimit` octets, else HDRS. */
  ret?: "FULL" | "HDRS" | null;
  recipients: DsnRecipient[];
  date: Date;
  /** Message-ID of the DSN, with the angle brackets. */
  messageId: string;
  boundary: string;
}

/** Postfix's bounce_size_limit: without RET, a larger original is returned as headers only. */
export const FULL_RETURN_LIMIT = 50_000;

const CRLF = "\r\n";

const SUBJECT: Record<DsnAction, string> = {
  failed: "Undelivered Mail Returned to Sender",
  delayed: "Delayed Mail (still being retried)",
  delivered: "Successful Mail Delivery Report",
};

/** The report's subject: the worst action among its recipients names it. */
export function dsnSubject(recipients: Pick<DsnRecipient, "action">[]): string {
  return SUBJECT[worstAction(recipients)];
}

function worstAction(recipients: Pick<DsnRecipient, "action">[]): DsnAction {
  if (recipients.some((r) => r.action === "failed")) return "failed";
  if (recipients.some((r) => r.action === "delayed")) return "delayed";
  return "delivered";
}

export function renderDsn(input: DsnInput): Buffer {
  const worst = worstAction(input.recipients);
  const ret = input.ret ?? (input.original.length <= FULL_RETURN_LIMIT ? "FULL" : "HDRS");
  const b = input.boundary;
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${oneLine(input.to)}>`,
    `Subject: ${SUBJECT[worst]}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: ${input.messageId}`,
    // RFC 3834 §5: automatic responses say so, so that nobody answers them automatically.
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF}\tboundary="${b}"`,
  ];
  const human = [
    `Content-Type: text/plain; charset=utf-8`,
    "Content-Transfer-Encoding: 8bit",
    "",
    ...explanation(input, worst),
  ];
  const status = ["Content-Type: message/delivery-status", "", ...deliveryStatus(input)];
  const original = originalPart(input.original, ret);
  const body = [
    ...head,
    "",
    "This is a MIME-encapsulated message.",
    "",
    `--${b}`,
    ...human,
    "",
    `--${b}`,
    ...status,
    `--${b}`,
  ].join(CRLF);
  return Buffer.concat([
    Buffer.from(body + CRLF, "utf8"),
    original,
    Buffer.from(`${CRLF}--${b}--${CRLF}`, "utf8"),
  ]);
}

function explanation(input: DsnInput, worst: DsnAction): string[] {
  const lines = [`This is the mail system at host ${input.reportingMta}.`, ""];
  const failed = input.recipients.filter((r) => r.action === "failed");
  const delayed = input.recipients.filter((r) => r.action === "delayed");
  const delivered = input.recipients.filter((r) => r.action === "delivered");
  if (failed.length > 0) {
    lines.push(
      "I'm sorry to have to inform you that your message could not",
      "be delivered to one or more recipients. It's attached below.",
      "",
      ...failed.flatMap((r) => [`<${r.finalRecipient}>: ${reason(r)}`, ""]),
    );
  }
  if (delayed.length > 0) {
    lines.push(
      "Your message could not be delivered yet to the recipients below.",
      "The mail system will keep trying; you do not need to send it again.",
      "",
      ...delayed.flatMap((r) => [
        `<${r.finalRecipient}>: ${reason(r)}`,
        ...(r.willRetryUntil ? [`    (retried until ${rfc5322Date(r.willRetryUntil)})`] : []),
        "",
      ]),
    );
  }
  if (delivered.length > 0) {
    lines.push("Your message was delivered to the recipients below.", "", ...delivered.map((r) => `<${r.finalRecipient}>: ${reason(r)}`), "");
  }
  if (worst === "failed") lines.push("For further assistance, please send mail to <postmaster>.", "");
  return lines;
}

function reason(r: DsnRecipient): string {
  const diag = r.diagnosticCode?.replace(/^[^;]*;\s*/, "");
  const where = r.remoteMta ? `host ${r.remoteMta} said: ` : "";
  return diag ? `${where}${diag}` : `status ${r.status}`;
}

/** RFC 3464 §2.1: per-message fields, a blank line, then per-recipient field groups. */
function deliveryStatus(input: DsnInput): string[] {
  const lines = [`Reporting-MTA: dns; ${input.reportingMta}`];
  if (input.envelopeId) lines.push(`Original-Envelope-Id: ${oneLine(decodeXtext(input.envelopeId))}`);
  lines.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`, "");
  for (const r of input.recipients) {
    lines.push(`Final-Recipient: rfc822; ${oneLine(r.finalRecipient)}`);
    if (r.originalRecipient) lines.push(`Original-Recipient: ${originalRecipient(r.originalRecipient)}`);
    lines.push(`Action: ${r.action}`, `Status: ${r.status}`);
    if (r.remoteMta) lines.push(`Remote-MTA: dns; ${oneLine(r.remoteMta)}`);
    if (r.diagnosticCode) lines.push(`Diagnostic-Code: ${oneLine(r.diagnosticCode)}`);
    if (r.lastAttemptDate) lines.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptDate)}`);
    if (r.willRetryUntil) lines.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
    lines.push("");
  }
  return lines;
}

/** 'rfc822;bob@example.com' → 'rfc822; bob@example.com' (RFC 3464 §2.3.1: address-type; decoded xtext). */
function originalRecipient(orcpt: string): string {
  const i = orcpt.indexOf(";");
  if (i < 0) return `rfc822; ${oneLine(decodeXtext(orcpt))}`;
  return `${orcpt.slice(0, i).trim()}; ${oneLine(decodeXtext(orcpt.slice(i + 1).trim()))}`;
}

function originalPart(original: Buffer, ret: "FULL" | "HDRS"): Buffer {
  if (ret === "HDRS") {
    return Buffer.concat([Buffer.from(`Content-Type: text/rfc822-headers${CRLF}${CRLF}`), withCrlfEnd(headerOf(original))]);
  }
  // RFC 2046 §5.2.1: message/rfc822 takes only 7bit, 8bit or binary.
  const cte = original.some((c) => c > 127) ? "8bit" : "7bit";
  return Buffer.concat([
    Buffer.from(`Content-Type: message/rfc822${CRLF}Content-Transfer-Encoding: ${cte}${CRLF}${CRLF}`),
    withCrlfEnd(original),
  ]);
}

/** The header section: everything before the first empty line. */
export function headerOf(message: Buffer): Buffer {
  const crlf = message.indexOf("\r\n\r\n");
  const lf = message.indexOf("\n\n");
  const end = crlf >= 0 && (lf < 0 || crlf <= lf) ? crlf + 2 : lf >= 0 ? lf + 1 : message.length;
  return message.subarray(0, end);
}

function withCrlfEnd(b: Buffer): Buffer {
  if (b.length >= 2 && b[b.length - 2] === 13 && b[b.length - 1] === 10) return b.subarray(0, b.length - 2);
  if (b.length >= 1 && b[b.length - 1] === 10) return b.subarray(0, b.length - 1);
  return b;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 §3.3 date-time, in UTC. */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}
