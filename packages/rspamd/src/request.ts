/**
 * The envelope rspamd's HTTP protocol takes as request headers beside the message
 * (https://rspamd.com/doc/developers/protocol.html): what the MTA knows and the
 * message does not say. rspamd runs its SPF, HELO and per-user checks from these.
 */
export interface CheckEnvelope {
  /** Client address of the SMTP session. */
  ip?: string | undefined;
  /** The EHLO/HELO argument. */
  helo?: string | undefined;
  /** Reverse-DNS name of the client, when known. */
  hostname?: string | undefined;
  /** MAIL FROM reverse-path; "" is the null path <>. */
  from: string;
  /** RCPT TO forward-paths, each sent as its own Rcpt header. */
  rcpt: string[];
  /** The id this message will be queued as (rspamd logs it, as Postfix's queue id). */
  queueId?: string | undefined;
  /** SMTP AUTH identity, for submission: rspamd treats authenticated mail differently. */
  user?: string | undefined;
}

/** One header line's value: no CR, LF or NUL may reach the wire (HTTP/1.1 field-value). */
function fieldValue(v: string): string {
  return v.replace(/[\r\n\0]+/g, " ");
}

/**
 * The request headers of POST /checkv2. Multi-valued Rcpt is an array: node:http writes
 * one header line per element, which rspamd reads as one recipient each (a single
 * comma-joined line, as fetch's Headers would send, is read as one address).
 */
export function requestHeaders(envelope: CheckEnvelope, password?: string): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  if (envelope.ip) h["IP"] = fieldValue(envelope.ip);
  if (envelope.helo) h["Helo"] = fieldValue(envelope.helo);
  if (envelope.hostname) h["Hostname"] = fieldValue(envelope.hostname);
  // The null reverse-path is sent as "<>", which rspamd reads as an empty sender.
  h["From"] = envelope.from === "" ? "<>" : fieldValue(envelope.from);
  if (envelope.rcpt.length > 0) h["Rcpt"] = envelope.rcpt.map(fieldValue);
  if (envelope.queueId) h["Queue-Id"] = fieldValue(envelope.queueId);
  if (envelope.user) h["User"] = fieldValue(envelope.user);
  if (password) h["Password"] = fieldValue(password);
  return h;
}
