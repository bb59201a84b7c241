import { rfc5322Date } from "./message-headers.js";

export interface ReceivedInput {
  /** What the client called itself in EHLO/HELO. */
  helo: string;
  clientAddress: string;
  /** Reverse DNS name, when one was looked up. */
  clientHostname?: string;
  hostname: string;
  /** RFC 3848 protocol: ESMTP, ESMTPS, ESMTPA, ESMTPSA. */
  protocol: string;
  id: string;
  /** Only for a single recipient, so that Bcc recipients are not disclosed (RFC 5321 §7.2). */
  recipient?: string;
  tls?: { protocol?: string; cipher?: string };
  date: Date;
}

// Anything a client supplied is reduced to printable ASCII without parentheses, so that
// it can neither fold the header nor close the comment it sits in.
const clean = (s: string) => s.replace(/[^\x21-\x7e]/g, "?").replace(/[()\\]/g, "?").slice(0, 255) || "unknown";

/** The trace line of RFC 5321 §4.4 (a Received: field, folded), without the final CRLF. */
export function receivedHeader(r: ReceivedInput): string {
  const from = `from ${clean(r.helo)} (${r.clientHostname ? clean(r.clientHostname) + " " : ""}[${clean(r.clientAddress)}])`;
  const tls = r.tls?.protocol ? ` (${clean(r.tls.protocol)}${r.tls.cipher ? " " + clean(r.tls.cipher) : ""})` : "";
  const forPart = r.recipient ? `\r\n\tfor <${clean(r.recipient)}>` : "";
  return `Received: ${from}\r\n\tby ${r.hostname} (Correo) with ${r.protocol}${tls} id ${r.id}${forPart};\r\n\t${rfc5322Date(r.date)}`;
}

/** The trace line for a message that came in over the HTTP API. */
export function apiReceivedHeader(r: { clientAddress: string; hostname: string; id: string; date: Date }): string {
  return `Received: from [${clean(r.clientAddress)}]\r\n\tby ${r.hostname} (Correo) with HTTP id ${r.id};\r\n\t${rfc5322Date(r.date)}`;
}
