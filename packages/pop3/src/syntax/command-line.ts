/**
 * POP3 command-line parser (RFC 1939 §3, RFC 2449 §4). Pure: one line in (without
 * its CRLF), a command or a parse error out; it never throws.
 */

/** RFC 2449 §4: a command line is at most 255 octets, including the terminating CRLF. */
export const MAX_COMMAND_LINE_OCTETS = 255;
/** The longest command line without its CRLF. */
export const MAX_COMMAND_OCTETS = MAX_COMMAND_LINE_OCTETS - 2;

export interface Pop3Command {
  /** The keyword, upper-cased (RFC 1939 §3: keywords are case-insensitive). */
  command: string;
  args: string[];
}

export type ParseResult =
  | { ok: true; command: Pop3Command }
  | { ok: false; error: ParseError };

/** Each error is the text the server shows after `-ERR`. */
export type ParseError = "line too long" | "empty command" | "invalid characters in command" | "unknown command";

// RFC 1939 §3 asks for printable ASCII; UTF-8 in passwords is tolerated, control characters are not.
const CONTROL = /[\x00-\x1f\x7f]/;
// RFC 1939 §3: keywords are three or four characters; RFC 2449 extensions keep to letters.
const KEYWORD = /^[A-Za-z]{3,4}$/;

export function parseCommand(line: string): ParseResult {
  if (Buffer.byteLength(line, "utf8") > MAX_COMMAND_OCTETS) return { ok: false, error: "line too long" };
  if (line.trim() === "") return { ok: false, error: "empty command" };
  if (CONTROL.test(line)) return { ok: false, error: "invalid characters in command" };

  const space = line.indexOf(" ");
  const keyword = space === -1 ? line : line.slice(0, space);
  if (!KEYWORD.test(keyword)) return { ok: false, error: "unknown command" };
  const command = keyword.toUpperCase();
  const rest = space === -1 ? "" : line.slice(space + 1);

  // RFC 1939 §7 (PASS): "the server may treat spaces in the argument as part of the
  // password, instead of as argument separators", so the whole remainder is one argument.
  if (command === "PASS") return { ok: true, command: { command, args: space === -1 ? [] : [rest] } };

  // Arguments are separated by a single space (RFC 1939 §3); runs of spaces are tolerated.
  const args = rest.split(" ").filter((a) => a !== "");
  return { ok: true, command: { command, args } };
}

