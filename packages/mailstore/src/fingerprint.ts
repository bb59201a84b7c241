/**
 * What makes two deliveries "the same message" for duplicate suppression (issue 10 item 5,
 * the RFC 1047 window): the header fields the sender wrote and the body, byte for byte.
 * Trace fields are left out, because every hop adds its own and a re-sent copy gets a new
 * one: Return-Path and Received (RFC 5322 §3.6.7), and the verdicts receivers add beside
 * them (Authentication-Results RFC 8601, Received-SPF RFC 7208 §9.1, Delivered-To,
 * X-Original-To). Everything else, Message-ID and Date included, is covered.
 */
import { createHash } from "node:crypto";

const TRACE_FIELDS = new Set(["received", "return-path", "authentication-results", "received-spf", "delivered-to", "x-original-to"]);

/** SHA-256 of the message without its trace fields (see above). */
export function messageFingerprint(raw: Buffer): Buffer {
  const hash = createHash("sha256");
  const end = headerEnd(raw);
  let fieldStart = 0;
  let keep = true;
  let line = 0;
  while (line < end) {
    let eol = raw.indexOf(0x0a, line);
    eol = eol < 0 || eol >= end ? end : eol + 1;
    const first = raw[line];
    if (first !== 0x20 && first !== 0x09) {
      // A new field starts here: the previous one (with its folded lines) is complete.
      if (keep && line > fieldStart) hash.update(raw.subarray(fieldStart, line));
      fieldStart = line;
      const colon = raw.indexOf(0x3a, line);
      const name = colon > line && colon < eol ? raw.toString("latin1", line, colon).trim().toLowerCase() : "";
      keep = !TRACE_FIELDS.has(name);
    }
    line = eol;
  }
  if (keep && end > fieldStart) hash.update(raw.subarray(fieldStart, end));
  hash.update(raw.subarray(end));
  return hash.digest();
}

/** Offset of the empty line that ends the header section (the body follows it), or the length. */
function headerEnd(raw: Buffer): number {
  if (raw[0] === 0x0d && raw[1] === 0x0a) return 0;
  if (raw[0] === 0x0a) return 0;
  const crlf = raw.indexOf("\r\n\r\n");
  const lf = raw.indexOf("\n\n");
  if (crlf < 0 && lf < 0) return raw.length;
  if (crlf >= 0 && (lf < 0 || crlf + 1 <= lf)) return crlf + 2;
  return lf + 1;
}
