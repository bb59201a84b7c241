/**
 * AUTHENTICATE (RFC 3501 §6.2.2) with SASL PLAIN (RFC 4616) and SASL-IR (RFC 4959): the
 * mechanism and the optional initial response, then the client's response decoded. Pure:
 * text in, the request or the credentials out, or an ArgumentError (BAD, or NO [CANNOT]
 * for a mechanism this server lacks, answered before the initial response is read).
 */
import type { Token } from "../parser.js";
import { ArgumentError, astring } from "./arguments.js";

export const SASL_MECHANISMS = ["PLAIN"];

export interface AuthenticateRequest {
  mechanism: string;
  /** RFC 4959: the response sent with the command ("=" for an empty one); undefined: ask with a continuation. */
  initialResponse?: string;
}

export function parseAuthenticate(args: readonly Token[]): AuthenticateRequest {
  const mechanism = astring(args[0], "the SASL mechanism").toUpperCase();
  if (!SASL_MECHANISMS.includes(mechanism)) throw new ArgumentError(`unsupported mechanism ${mechanism}; use PLAIN`, "NO", "CANNOT");
  return args[1] ? { mechanism, initialResponse: astring(args[1], "the initial response") } : { mechanism };
}

/**
 * RFC 4616 §2: base64 of `[authzid] NUL authcid NUL passwd`; "=" is empty (RFC 4959), "*"
 * cancels (RFC 3501 §6.2.2: BAD).
 */
export function decodePlainResponse(response: string): { authzid: string; authcid: string; password: string } {
  if (response === "*") throw new ArgumentError("AUTHENTICATE cancelled");
  const decoded = response === "=" ? "" : Buffer.from(response, "base64").toString("utf8");
  const parts = decoded.split("\0");
  if (parts.length !== 3 || !/^[A-Za-z0-9+/]*=*$/.test(response)) throw new ArgumentError("malformed PLAIN response");
  const [authzid, authcid, password] = parts as [string, string, string];
  return { authzid, authcid, password };
}
