/**
 * The POP3 state machine (RFC 1939 §3): AUTHORIZATION → TRANSACTION → UPDATE. One
 * instance per connection; it parses command lines (syntax/command-line.ts), checks the
 * state each command is valid in and runs it (commands/*.ts). It knows nothing of
 * sockets or SQL: accounts and maildrops come through storage.ts's interfaces.
 */
import { continueAuth } from "./commands/auth.js";
import { COMMANDS } from "./commands/index.js";
import { newContext, releaseMaildrop, type Pop3Context, type Pop3State, type SessionOptions } from "./context.js";
import { err, ok, type Pop3Response } from "./response.js";
import { ResponseCode, withCode } from "./response-codes.js";
import { parseCommand, type Pop3Command } from "./syntax/command-line.js";

const INTERNAL_ERROR = withCode(ResponseCode.sysTemp, "internal error, try again later");

export class Pop3Session {
  private readonly ctx: Pop3Context;

  constructor(opts: SessionOptions) {
    this.ctx = newContext(opts);
  }

  get state(): Pop3State {
    return this.ctx.state;
  }

  /**
   * The command a line will be handled as, for metrics and spans: a known command name,
   * AUTH for a SASL response line, UNKNOWN otherwise (never the raw line: it may hold a password).
   */
  commandOf(line: string): string {
    if (this.ctx.saslPending) return "AUTH";
    const verb = line.split(" ", 1)[0]!.toUpperCase();
    return COMMANDS.has(verb) ? verb : "UNKNOWN";
  }

  /** RFC 1939 §4: the greeting that opens the AUTHORIZATION state. */
  greeting(): Pop3Response {
    return ok(`${this.ctx.options.hostname} Correo POP3 ready`);
  }

  /** Handles one command line (without CRLF). Calls must not overlap. */
  async handleLine(line: string): Promise<Pop3Response> {
    if (this.ctx.saslPending) return this.guarded("AUTH", () => continueAuth(this.ctx, line));
    const parsed = parseCommand(line);
    if (!parsed.ok) return err(parsed.error);
    return this.handle(parsed.command);
  }

  private async handle({ command, args }: Pop3Command): Promise<Pop3Response> {
    if (this.ctx.closed) return { ...err("session is closed"), close: true };
    const handler = COMMANDS.get(command);
    if (!handler) return err("unknown command");
    this.ctx.options.observer?.command?.(command);
    if (!handler.validIn.includes(this.ctx.state)) return err(`${command} not valid in ${this.ctx.state} state`);
    return this.guarded(command, () => handler.run(this.ctx, args));
  }

  /** A failure of the store or the directory: -ERR [SYS/TEMP] (RFC 3206 §4), the session goes on. */
  private async guarded(command: string, run: () => Promise<Pop3Response> | Pop3Response): Promise<Pop3Response> {
    try {
      return await run();
    } catch (error) {
      this.ctx.options.observer?.error?.(error, command);
      return err(INTERNAL_ERROR);
    }
  }

  /**
   * The connection ended without QUIT (client gone, idle timeout, server stop). RFC 1939
   * §6: the session does not enter UPDATE, so nothing is removed; the lock is released.
   */
  async abort(): Promise<void> {
    this.ctx.closed = true;
    await releaseMaildrop(this.ctx);
  }

  /** A line longer than the listener frames: a command, or a SASL response, that is refused. */
  lineTooLong(): Pop3Response {
    if (this.ctx.saslPending) {
      this.ctx.saslPending = undefined;
      return err("SASL response too long, authentication cancelled");
    }
    return err("line too long");
  }

  /**
   * The listener finished the TLS handshake after STLS. RFC 2595 §4: what the client
   * said before it is forgotten (a USER given in the clear does not count).
   */
  tlsStarted(): void {
    this.ctx.tls = true;
    this.ctx.user = undefined;
  }
}
