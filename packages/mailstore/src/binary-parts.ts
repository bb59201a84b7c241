/**
 * An APPEND sent as a literal8 (RFC 3516 §4.2) may carry parts with
 * Content-Transfer-Encoding: binary (NULs, bare CRs, long lines). The store keeps every
 * message 8-bit clean, as Dovecot does (istream-binary-converter): each such part is
 * stored base64-encoded with its header saying so, so BODY[] stays valid IMAP text
 * (RFC 3501 §9 CHAR8 has no NUL) while BINARY[part] gives back the very octets that were
 * appended. Pure: bytes in, bytes out.
 */
import type { BodyPart } from "@correo/imap";
import { describeMessage } from "./mime-structure.js";

/** The message with every binary leaf part re-encoded as base64; the same Buffer when there is none. */
export function binaryPartsAsBase64(raw: Buffer): Buffer {
  const leaves: BodyPart[] = [];
  collectBinaryLeaves(describeMessage(raw).bodyStructure, leaves);
  if (leaves.length === 0) return raw;
  const out: Buffer[] = [];
  let at = 0;
  for (const part of leaves.sort((a, b) => a.headerStart - b.headerStart)) {
    const header = raw.subarray(part.headerStart, part.bodyStart).toString("latin1");
    // RFC 2045 §6.1: one Content-Transfer-Encoding field, which may be folded.
    const rewritten = header.replace(/^content-transfer-encoding[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*/im, (field) => `Content-Transfer-Encoding: base64${field.endsWith("\r\n") ? "\r\n" : "\n"}`);
    out.push(raw.subarray(at, part.headerStart), Buffer.from(rewritten, "latin1"), base64Lines(raw.subarray(part.bodyStart, part.end)));
    // The CRLF before a boundary delimiter belongs to it (RFC 2046 §5.1.1); a message's last part has none.
    if (part.end === raw.length) out.push(Buffer.from("\r\n"));
    at = part.end;
  }
  out.push(raw.subarray(at));
  return Buffer.concat(out);
}

function collectBinaryLeaves(part: BodyPart, out: BodyPart[]): void {
  if (part.parts) for (const p of part.parts) collectBinaryLeaves(p, out);
  else if (part.message) collectBinaryLeaves(part.message.body, out);
  else if (part.encoding.trim().toLowerCase() === "binary") out.push(part);
}

/** RFC 2045 §6.8: lines of at most 76 characters. */
function base64Lines(body: Buffer): Buffer {
  const b64 = body.toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(lines.join("\r\n"), "latin1");
}
