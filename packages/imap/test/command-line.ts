/** What the syntax table tests share: a command line's tokens, and the refusal a parser throws. */
import { CommandFramer, parseCommand, type Token } from "../src/index.js";
import { ArgumentError } from "../src/syntax/arguments.js";

/** The arguments of a whole command line (tag and name included), as the session hands them to a command; literals are not used. */
export function argsOf(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

/** The arguments of a command as the client sends it, CRLF and literals (`{n+}`, `~{n+}`) included. */
export function argsOfWire(text: string): Token[] {
  const l = new CommandFramer().push(Buffer.from(text)).find((e) => e.kind === "line");
  if (!l || l.kind !== "line") throw new Error("no line framed");
  const parsed = parseCommand(l.line);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

/** A LITERAL+ literal of `s`. */
export const literal = (s: string) => `{${Buffer.byteLength(s)}+}\r\n${s}`;

/** What `parse` refused, as the session would answer it: status, code and text. */
export function refusalOf(parse: () => unknown): { status: "BAD" | "NO"; code?: string; text: string } {
  try {
    parse();
  } catch (e) {
    if (!(e instanceof ArgumentError)) throw e;
    return { status: e.status, ...(e.code ? { code: e.code } : {}), text: e.message };
  }
  throw new Error("the parser took it");
}
