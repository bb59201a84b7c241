/** What the syntax table tests share: a command line's tokens, the refusal a parser throws, and a session to send lines to. */
import { CommandFramer, ImapSession, parseCommand, type FramedLine, type ImapStorage, type Token } from "../src/index.js";
import { ArgumentError } from "../src/syntax/arguments.js";

/** The arguments of a whole command line (tag and name included), as the session hands them to a command; literals are not used. */
export function argsOf(line: string): Token[] {
  const parsed = parseCommand({ segments: [line], literals: [] } as never);
  if (parsed instanceof Error) throw parsed;
  return parsed.args;
}

/** The arguments of a command as the client sends it, CRLF and literals (`{n+}`, `~{n+}`) included. */
export function argsOfWire(text: string): Token[] {
  const parsed = parseCommand(framedLine(text));
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

/** The first line the framer makes of `text` (CRLF and literals included). */
export function framedLine(text: string): FramedLine {
  const l = new CommandFramer().push(Buffer.from(text)).find((e) => e.kind === "line");
  if (!l || l.kind !== "line") throw new Error("no line framed");
  return l.line;
}

/** A logged-in session over `storage` (nothing by default) whose writes are kept in `out`. */
export function testSession(storage = {} as ImapStorage): { s: ImapSession; out: string[] } {
  const out: string[] = [];
  const s = new ImapSession({
    hostname: "test",
    storage,
    secure: true,
    tlsAvailable: false,
    io: { write: async (b: Buffer) => void out.push(b.toString()), nextLine: async () => undefined, lineAvailable: async () => undefined },
  });
  s.state = "authenticated";
  s.user = { id: 1, address: "u@test" };
  return { s, out };
}
