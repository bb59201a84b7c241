/**
 * Content-transfer decoding for FETCH BINARY (RFC 3516 §4.3): a part's body as the
 * octets it encodes, per its Content-Transfer-Encoding (RFC 2045 §6). Pure.
 */

/** The decoded octets, or the encoding this server does not know (answered NO [UNKNOWN-CTE]). */
export type Decoded = { bytes: Buffer } | { unknownCte: string };

/** RFC 2045 §6.1: 7bit, 8bit and binary are identities; base64 and quoted-printable decode. */
export function decodeTransferEncoding(body: Buffer, encoding: string): Decoded {
  switch (encoding.trim().toLowerCase()) {
    case "":
    case "7bit":
    case "8bit":
    case "binary":
      return { bytes: body };
    case "base64":
      return { bytes: decodeBase64(body) };
    case "quoted-printable":
      return { bytes: decodeQuotedPrintable(body) };
    default:
      return { unknownCte: encoding.trim() };
  }
}

/**
 * RFC 2045 §6.8: characters outside the base64 alphabet (line breaks, spaces) are
 * ignored; the first "=" ends the data.
 */
export function decodeBase64(body: Buffer): Buffer {
  const text = body.toString("latin1");
  const end = text.indexOf("=");
  const clean = (end === -1 ? text : text.slice(0, end)).replace(/[^A-Za-z0-9+/]/g, "");
  // A last group of one character encodes no whole octet (RFC 4648 §4); it is dropped.
  return Buffer.from(clean.length % 4 === 1 ? clean.slice(0, -1) : clean, "base64");
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * RFC 2045 §6.7: "=XX" is the octet XX; "=" at the end of a line (after optional
 * transport padding, rule 3) is a soft line break; whitespace at the end of a line is
 * transport padding and is deleted (rule 3). An "=" not followed by two hex digits is
 * kept as it is (the robust reading §6.7 note 1 recommends).
 */
export function decodeQuotedPrintable(body: Buffer): Buffer {
  // Decoding never grows a line but may turn a bare LF into CRLF.
  let lines = 0;
  for (let i = body.indexOf(0x0a); i !== -1; i = body.indexOf(0x0a, i + 1)) lines++;
  const out = Buffer.alloc(body.length + lines);
  let n = 0;
  let lineStart = 0;
  while (lineStart < body.length) {
    let lf = body.indexOf(0x0a, lineStart);
    const hasBreak = lf !== -1;
    if (!hasBreak) lf = body.length;
    let end = hasBreak && lf > lineStart && body[lf - 1] === 0x0d ? lf - 1 : lf;
    while (end > lineStart && (body[end - 1] === 0x20 || body[end - 1] === 0x09)) end--;
    let soft = false;
    for (let i = lineStart; i < end; i++) {
      const c = body[i]!;
      if (c !== 0x3d) {
        out[n++] = c;
        continue;
      }
      if (i === end - 1) {
        soft = true;
        break;
      }
      const hex = body.toString("latin1", i + 1, i + 3);
      if (HEX.test(hex)) {
        out[n++] = parseInt(hex, 16);
        i += 2;
      } else out[n++] = c;
    }
    if (hasBreak && !soft) {
      out[n++] = 0x0d;
      out[n++] = 0x0a;
    }
    lineStart = lf + 1;
  }
  return out.subarray(0, n);
}
