/**
 * The SASL PLAIN mechanism (RFC 4616) as POP3 AUTH carries it (RFC 5034): pure decoding
 * of the client's base64 response into the identities and the password.
 */

export interface PlainCredentials {
  /** Authorization identity; empty when the client acts as itself. */
  authzid: string;
  /** Authentication identity: here the account's e-mail address. */
  authcid: string;
  password: string;
}

export type PlainDecodeResult = { ok: true; credentials: PlainCredentials } | { ok: false; error: string };

// RFC 4648 §4 base64, padded; RFC 5034 §4 asks the server to reject anything else.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes `response` (base64, or "=" for an empty initial response, RFC 5034 §4).
 * RFC 4616 §2: message = [authzid] NUL authcid NUL passwd, each UTF-8 without NUL,
 * authcid and passwd not empty, each at most 255 octets.
 */
export function decodePlain(response: string): PlainDecodeResult {
  const text = response === "=" ? "" : response;
  if (!BASE64.test(text)) return { ok: false, error: "invalid base64 in the SASL response" };
  const octets = Buffer.from(text, "base64");
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < octets.length; i++) {
    if (octets[i] !== 0) continue;
    parts.push(octets.subarray(start, i));
    start = i + 1;
  }
  parts.push(octets.subarray(start));
  if (parts.length !== 3) return { ok: false, error: "a PLAIN response is authzid NUL authcid NUL password" };
  const [authzid, authcid, password] = parts as [Buffer, Buffer, Buffer];
  if (authcid.length === 0 || password.length === 0) return { ok: false, error: "the PLAIN user name and password must not be empty" };
  if (authzid.length > 255 || authcid.length > 255 || password.length > 255) {
    return { ok: false, error: "a PLAIN identity or password is longer than 255 octets" };
  }
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  try {
    return {
      ok: true,
      credentials: { authzid: utf8.decode(authzid), authcid: utf8.decode(authcid), password: utf8.decode(password) },
    };
  } catch {
    return { ok: false, error: "the PLAIN response is not UTF-8" };
  }
}
