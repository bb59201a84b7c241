import { scanLines } from "../bare-newline.js";
import { countHeader, headerHasNul, readHeaderSection, type HeaderSection } from "../../message-headers.js";
import { replies } from "../replies.js";
import { accept, reject, type Verdict } from "../verdict.js";

// RFC 5321 §6.3 leaves the count to the implementation; Postfix's hopcount_limit is 50, the issue asks for 30.
export const MAX_RECEIVED_HEADERS = 30;

export interface DataLimits {
  /** Longest line in characters without its CRLF (RFC 5322 §2.1.1: 998). */
  maxLineLength: number;
  maxReceived: number;
}

/** The message as received after DATA: smuggling, line length, NUL in the header and mail loops. */
export function inspectMessage(raw: Buffer, limits: DataLimits): { verdict: Verdict; headers: HeaderSection } {
  const lines = scanLines(raw);
  const headers = readHeaderSection(raw);
  if (lines.bare) return { verdict: reject(replies.bareNewline(lines.bare)), headers };
  if (lines.longestLine > limits.maxLineLength) return { verdict: reject(replies.lineTooLong(limits.maxLineLength)), headers };
  if (headerHasNul(raw, headers)) return { verdict: reject(replies.nulInHeader()), headers };
  const hops = countHeader(headers, "Received");
  if (hops > limits.maxReceived) return { verdict: reject(replies.mailLoop(hops)), headers };
  return { verdict: accept, headers };
}
