/**
 * THREAD / UID THREAD arguments (RFC 5256 §3): the algorithm (ORDEREDSUBJECT or
 * REFERENCES), the charset and search keys as SEARCH takes them. Pure: tokens in, a
 * ThreadRequest or an ArgumentError out.
 */
import type { Token } from "../parser.js";
import { ArgumentError, astring } from "./arguments.js";
import { checkCharset, parseSearchKeys, type SearchSyntax } from "./search.js";

export interface ThreadRequest {
  algorithm: "ORDEREDSUBJECT" | "REFERENCES";
  keys: SearchSyntax[];
}

/** `rev2`: as for SEARCH, IMAP4rev2 has no RECENT, NEW or OLD. */
export function parseThread(args: readonly Token[], opts: { rev2: boolean }): ThreadRequest {
  const [algorithmToken, charsetToken, ...rest] = args;
  if (algorithmToken?.type !== "atom") throw new ArgumentError("THREAD needs a threading algorithm");
  const algorithm = algorithmToken.value.toUpperCase();
  if (algorithm !== "ORDEREDSUBJECT" && algorithm !== "REFERENCES") throw new ArgumentError(`THREAD: unsupported algorithm ${algorithmToken.value}`);
  const charset = astring(charsetToken, "the THREAD charset").toUpperCase();
  if (rest.length === 0) throw new ArgumentError("THREAD needs search criteria");
  checkCharset(charset);
  return { algorithm, keys: parseSearchKeys(rest, opts) };
}
