/**
 * A delivery's stored reply → the RFC 3464 Status and Diagnostic-Code of its DSN, pure.
 *
 * Stored replies come in three shapes (see services/relay-queue/src/classify.ts):
 *   "550 5.1.1 no such user (mx.example.net[192.0.2.1]:25)"   a remote SMTP reply
 *   "4.4.1 connection refused (192.0.2.1:25)"                 a local failure, RFC 3463 code only
 *   "5.4.7 delivery time expired after 9 attempts; last: …"  an expiry wrapping the last reply
 */
export type DsnAction = "failed" | "delayed" | "delivered";

export interface DsnStatus {
  /** RFC 3463 enhanced status, class 2 for delivered, 4 for delayed, 5 for failed. */
  status: string;
  /** RFC 3464 §2.3.6 `diagnostic-type; text`: `smtp; 550 5.1.1 …` for SMTP replies, `X-Correo; …` otherwise. */
  diagnosticCode: string | undefined;
}

const SMTP_REPLY = /^([245])\d\d(?:[ -]|$)/;
const ENHANCED = /(?:^|\s)([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$|[;,:])/;
const EXPIRY = /; last: (.*)$/s;
// The "(host[address]:port)" or "(address:port)" the relay adds to replies it records.
const WHERE_SUFFIX = /\s\((?:[^()\s]+\[[^\]]+\]|[^()\s]+):\d+\)$/;

export function stripWhere(reply: string): string {
  return reply.replace(WHERE_SUFFIX, "");
}

function enhancedOf(text: string): { cls: string; rest: string } | undefined {
  const m = ENHANCED.exec(text);
  return m ? { cls: m[1]!, rest: `${m[2]}.${m[3]}` } : undefined;
}

/** RFC 3464 §2.3.4: the status class must agree with the Action. */
function withClass(enhanced: { cls: string; rest: string } | undefined, action: DsnAction): string {
  const cls = action === "delivered" ? "2" : action === "delayed" ? "4" : "5";
  if (!enhanced) return `${cls}.0.0`;
  return `${cls}.${enhanced.rest}`;
}

function diagnosticOf(reply: string): string | undefined {
  const text = oneLine(stripWhere(reply.trim()));
  if (!text) return undefined;
  return SMTP_REPLY.test(text) ? `smtp; ${text}` : `X-Correo; ${text}`;
}

export function dsnStatusOf(response: string | null | undefined, action: DsnAction): DsnStatus {
  const text = (response ?? "").trim();
  const expiry = EXPIRY.exec(text);
  if (expiry) {
    // The status is the expiry's own (X.4.7); the diagnostic is what the remote said last.
    return { status: withClass(enhancedOf(text.slice(0, expiry.index)), action), diagnosticCode: diagnosticOf(expiry[1]!) };
  }
  const smtp = SMTP_REPLY.exec(text);
  const enhanced = enhancedOf(text) ?? (smtp ? { cls: smtp[1]!, rest: "0.0" } : undefined);
  // A local delivery ("stored in INBOX as UID 7") has no remote reply to quote.
  const diagnosticCode = smtp || /^[245]\.\d/.test(text) ? diagnosticOf(text) : undefined;
  return { status: withClass(enhanced, action), diagnosticCode };
}

/** Header field values never carry line breaks (RFC 5322 §2.2). */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+\s*/g, " ").trim();
}

/** RFC 3461 §4: ENVID and ORCPT are xtext ("+2B" for "+"); the DSN shows them decoded. */
export function decodeXtext(text: string): string {
  return text.replace(/\+([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
