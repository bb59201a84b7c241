import { encodeMultiline, MultilineEncoder } from "./message-text.js";

/**
 * One POP3 response (RFC 1939 §3): a status line, optionally followed by a multi-line
 * body, and whether the server closes the connection after sending it.
 */
export interface Pop3Response {
  ok: boolean;
  /** Text after "+OK " / "-ERR "; may start with an RFC 2449 §8 response code like "[IN-USE]". */
  text: string;
  /** Lines of a multi-line response, without line ends and not yet byte-stuffed. */
  lines?: readonly (string | Buffer)[];
  /**
   * A multi-line body from the store (RETR), byte-stuffed as it is sent
   * (`responseChunks`): a small message whole, a large one in chunks read as they are
   * sent, never whole in memory.
   */
  body?: Buffer | AsyncIterable<Buffer>;
  close?: boolean;
  /** RFC 5034 §4: a SASL challenge, sent as "+ <text>"; the client's next line is its answer. */
  continuation?: boolean;
  /** RFC 2595 §4: after this +OK the listener starts the TLS handshake on the connection. */
  startTls?: boolean;
}

export const ok = (text: string, lines?: readonly (string | Buffer)[]): Pop3Response =>
  lines ? { ok: true, text, lines } : { ok: true, text };
export const err = (text: string): Pop3Response => ({ ok: false, text });
/** A +OK whose multi-line body is `body`, streamed. */
export const okStreamed = (text: string, body: Buffer | AsyncIterable<Buffer>): Pop3Response => ({ ok: true, text, body });
/** A SASL server challenge, base64 (empty for PLAIN). */
export const challenge = (base64: string): Pop3Response => ({ ok: true, text: base64, continuation: true });

/** The octets sent for `r`: status line with CRLF, then the byte-stuffed lines and "." if multi-line. */
export function encodeResponse(r: Pop3Response): Buffer {
  if (r.body) throw new Error("a streamed response is sent with responseChunks");
  // RFC 5034 §4: "+" SP base64 CRLF, the space sent even when the challenge is empty.
  if (r.continuation) return Buffer.from(`+ ${r.text}\r\n`, "utf8");
  const statusLine = `${r.ok ? "+OK" : "-ERR"}${r.text ? " " + r.text : ""}\r\n`;
  if (!r.lines) return Buffer.from(statusLine, "utf8");
  // A listing (LIST, UIDL, CAPA): text lines, none to byte-stuff, joined as one string and
  // made into bytes once instead of a Buffer and a CRLF per line (10 000 for UIDL).
  if (r.lines.every((l) => typeof l === "string" && l[0] !== ".")) {
    return Buffer.from(`${statusLine}${r.lines.length ? `${r.lines.join("\r\n")}\r\n` : ""}.\r\n`, "utf8");
  }
  const body = encodeMultiline(r.lines.map((l) => (typeof l === "string" ? Buffer.from(l, "utf8") : l)));
  return Buffer.concat([Buffer.from(statusLine, "utf8"), body]);
}

/**
 * The octets of `r` in the order they are sent: for a streamed body the status line,
 * then each chunk of the message byte-stuffed as it is read (RFC 1939 §3), then ".".
 * The next chunk is read from the store only when the caller asks for it, so a caller
 * that waits for the socket to drain holds about one chunk at a time. The status line
 * goes out with the first chunk, and a body the store gave whole is one write (RETR ×
 * 1 000 paid three sends a message).
 */
export async function* responseChunks(r: Pop3Response): AsyncGenerator<Buffer> {
  if (!r.body) {
    yield encodeResponse(r);
    return;
  }
  const encoder = new MultilineEncoder();
  const status = Buffer.from(`+OK${r.text ? " " + r.text : ""}\r\n`, "utf8");
  if (Buffer.isBuffer(r.body)) {
    yield Buffer.concat([status, encoder.push(r.body), encoder.end()]);
    return;
  }
  let first: Buffer | undefined = status;
  for await (const chunk of r.body) {
    const out = encoder.push(chunk);
    if (out.length === 0) continue;
    yield first ? Buffer.concat([first, out]) : out;
    first = undefined;
  }
  yield first ? Buffer.concat([first, encoder.end()]) : encoder.end();
}
