/**
 * The POP3 state machine (RFC 1939 §3): AUTHORIZATION → TRANSACTION → UPDATE. One
 * instance per connection; it turns command lines into responses and knows nothing
 * of sockets or SQL: accounts and maildrops come through the two interfaces below.
 */
import type { LoginOutcome } from "@correo/login-throttle";
import { topLines } from "./message-text.js";
import { parseCommand, type Pop3Command } from "./parser.js";
import { challenge, err, ok, okStreamed, type Pop3Response } from "./response.js";
import { decodePlain } from "./sasl-plain.js";

export interface Pop3Account {
  id: number;
  address: string;
}

/** Checks a USER/PASS pair. */
export interface Pop3Authenticator {
  authenticate(user: string, password: string): Promise<Pop3Account | undefined>;
}

export interface MaildropMessage {
  uid: number;
  /** Octets as sent by RETR (the stored message, CRLF line ends). */
  size: number;
  /** RFC 1939 §7 (UIDL): persistent across sessions; here `<uid_validity>.<uid>`. */
  uniqueId: string;
}

/** An account's maildrop, locked for this session: a snapshot taken when it was opened. */
export interface Maildrop {
  /** In UID order; message number n (RFC 1939 §3) is messages[n - 1]. */
  readonly messages: readonly MaildropMessage[];
  /** The stored message, or undefined when it is gone (TOP). */
  content(message: MaildropMessage): Promise<Buffer | undefined>;
  /** The stored message in chunks, read as they are sent (RETR); undefined when it is gone. */
  stream(message: MaildropMessage): Promise<AsyncIterable<Buffer> | undefined>;
  /** UPDATE state: removes these messages for good, all or none. */
  expunge(messages: readonly MaildropMessage[]): Promise<void>;
  /** Gives the lock back; the maildrop is not used afterwards. */
  release(): Promise<void>;
}

export interface MaildropStore {
  /** Locks and opens the account's maildrop; "in-use" when another session holds it. */
  open(account: Pop3Account): Promise<Maildrop | "in-use">;
}

/** Hooks for metrics and logs; all optional. */
export interface SessionObserver {
  command?(name: string): void;
  authFailed?(user: string): void;
  loggedIn?(account: Pop3Account): void;
  error?(error: unknown, command: string): void;
}

/** What the connection offers; the listener knows it, the session decides with it. */
export interface ConnectionSecurity {
  /** TLS is active from the start (POP3S, RFC 8314 §3.3). */
  tls: boolean;
  /** STLS can be offered: a certificate is loaded (RFC 2595 §4). */
  stlsAvailable: boolean;
  /** USER/PASS and AUTH PLAIN are allowed before TLS (auth-policy.ts). */
  plaintextAuth: boolean;
}

export interface SessionOptions {
  hostname: string;
  /** Without it: no TLS, no STLS, plaintext logins allowed (what unit tests and plain listeners need). */
  security?: ConnectionSecurity;
  authenticator: Pop3Authenticator;
  store: MaildropStore;
  /** Waited after each failed PASS, to slow down password guessing (RFC 1939 §13), when there is no `guardLogin`. */
  delayAfterAuthFailure?: () => Promise<void>;
  /**
   * Around each password check (PASS, AUTH): may refuse the attempt before the check (a
   * throttled client address) and waits the delay of a failure itself (packages/login-throttle).
   */
  guardLogin?: (user: string, check: () => Promise<Pop3Account | undefined>) => Promise<LoginOutcome<Pop3Account>>;
  /** The connection is closed after this many failed PASS commands. */
  maxAuthFailures?: number;
  observer?: SessionObserver;
}

export type Pop3State = "AUTHORIZATION" | "TRANSACTION" | "UPDATE";

type Handler = (args: string[]) => Promise<Pop3Response> | Pop3Response;

/** Commands this server implements, and the states each is valid in (RFC 1939 §4–§7, RFC 2449 §5). */
const VALID_IN: Record<string, readonly Pop3State[]> = {
  USER: ["AUTHORIZATION"],
  PASS: ["AUTHORIZATION"],
  STLS: ["AUTHORIZATION"],
  AUTH: ["AUTHORIZATION"],
  QUIT: ["AUTHORIZATION", "TRANSACTION"],
  CAPA: ["AUTHORIZATION", "TRANSACTION"],
  STAT: ["TRANSACTION"],
  LIST: ["TRANSACTION"],
  UIDL: ["TRANSACTION"],
  RETR: ["TRANSACTION"],
  TOP: ["TRANSACTION"],
  DELE: ["TRANSACTION"],
  NOOP: ["TRANSACTION"],
  RSET: ["TRANSACTION"],
};

const DEFAULT_MAX_AUTH_FAILURES = 3;
/** SASL mechanisms offered (RFC 5034 §3, the SASL capability). */
const SASL_MECHANISMS = ["PLAIN"] as const;
/** RFC 5034 §4 lifts the 255-octet limit for SASL responses; this one is ours. */
export const MAX_SASL_RESPONSE_OCTETS = 2048;
const PLAINTEXT_REFUSED = "[AUTH] plaintext authentication is not allowed on this connection: use STLS first";
// RFC 1939 §3 numbers messages from 1; more than 10 digits cannot name one.
const MESSAGE_NUMBER = /^[1-9][0-9]{0,9}$/;
const LINE_COUNT = /^[0-9]{1,9}$/;

export class Pop3Session {
  private current: Pop3State = "AUTHORIZATION";
  private user: string | undefined;
  private authFailures = 0;
  private maildrop: Maildrop | undefined;
  private readonly deleted = new Set<number>();
  private closed = false;
  private tls: boolean;
  /** A SASL exchange waits for the client's response line (RFC 5034 §4). */
  private saslPending: (typeof SASL_MECHANISMS)[number] | undefined;
  private readonly handlers: Record<string, Handler>;

  constructor(private readonly opts: SessionOptions) {
    this.tls = opts.security?.tls ?? false;
    this.handlers = {
      STLS: (a) => this.stlsCommand(a),
      AUTH: (a) => this.authCommand(a),
      USER: (a) => this.userCommand(a),
      PASS: (a) => this.passCommand(a),
      QUIT: () => this.quitCommand(),
      CAPA: () => this.capaCommand(),
      STAT: () => this.statCommand(),
      LIST: (a) => this.listCommand(a),
      UIDL: (a) => this.uidlCommand(a),
      RETR: (a) => this.retrCommand(a),
      TOP: (a) => this.topCommand(a),
      DELE: (a) => this.deleCommand(a),
      NOOP: () => ok(""),
      RSET: () => this.rsetCommand(),
    };
  }

  get state(): Pop3State {
    return this.current;
  }

  /**
   * The command a line will be handled as, for metrics and spans: a known command name,
   * AUTH for a SASL response line, UNKNOWN otherwise (never the raw line: it may hold a password).
   */
  commandOf(line: string): string {
    if (this.saslPending) return "AUTH";
    const verb = line.split(" ", 1)[0]!.toUpperCase();
    return verb in VALID_IN ? verb : "UNKNOWN";
  }

  /** RFC 1939 §4: the greeting that opens the AUTHORIZATION state. */
  greeting(): Pop3Response {
    return ok(`${this.opts.hostname} Correo POP3 ready`);
  }

  /** Handles one command line (without CRLF). Calls must not overlap. */
  async handleLine(line: string): Promise<Pop3Response> {
    if (this.saslPending) return this.saslResponse(line);
    const parsed = parseCommand(line);
    if (!parsed.ok) return err(parsed.error);
    return this.handle(parsed.command);
  }

  private async handle({ command, args }: Pop3Command): Promise<Pop3Response> {
    if (this.closed) return { ...err("session is closed"), close: true };
    const validIn = VALID_IN[command];
    const handler = this.handlers[command];
    if (!validIn || !handler) return err("unknown command");
    this.opts.observer?.command?.(command);
    if (!validIn.includes(this.current)) return err(`${command} not valid in ${this.current} state`);
    try {
      return await handler(args);
    } catch (error) {
      this.opts.observer?.error?.(error, command);
      // RFC 3206 §4: SYS/TEMP, a problem on our side that may go away.
      return err("[SYS/TEMP] internal error, try again later");
    }
  }

  /**
   * The connection ended without QUIT (client gone, idle timeout, server stop). RFC 1939
   * §6: the session does not enter UPDATE, so nothing is removed; the lock is released.
   */
  async abort(): Promise<void> {
    this.closed = true;
    await this.releaseMaildrop();
  }

  /** A line longer than the listener frames: a command, or a SASL response, that is refused. */
  lineTooLong(): Pop3Response {
    if (this.saslPending) {
      this.saslPending = undefined;
      return err("SASL response too long, authentication cancelled");
    }
    return err("line too long");
  }

  /**
   * The listener finished the TLS handshake after STLS. RFC 2595 §4: what the client
   * said before it is forgotten (a USER given in the clear does not count).
   */
  tlsStarted(): void {
    this.tls = true;
    this.user = undefined;
  }

  // --- AUTHORIZATION (RFC 1939 §7 USER/PASS, RFC 2595 STLS, RFC 5034 AUTH) ---------

  /** Whether a password may be taken on this connection now. */
  private loginAllowed(): boolean {
    return this.tls || (this.opts.security?.plaintextAuth ?? true);
  }

  private stlsCommand(args: string[]): Pop3Response {
    if (args.length !== 0) return err("STLS takes no argument");
    if (this.tls) return err("TLS is already active");
    if (!(this.opts.security?.stlsAvailable ?? false)) return err("STLS is not available");
    return { ...ok("begin TLS negotiation"), startTls: true };
  }

  /**
   * RFC 5034 §4: AUTH mechanism [initial-response]. Without an initial response the
   * server sends an empty challenge and the next line is the client's response.
   * A bare AUTH lists the mechanisms (as clients of the older RFC 1734 expect).
   */
  private async authCommand(args: string[]): Promise<Pop3Response> {
    if (args.length === 0) return ok("SASL mechanisms follow", this.loginAllowed() ? [...SASL_MECHANISMS] : []);
    if (args.length > 2) return err("AUTH takes a mechanism and an optional initial response");
    const mechanism = args[0]!.toUpperCase();
    if (mechanism !== "PLAIN") return err(`unsupported SASL mechanism ${args[0]}`);
    if (!this.loginAllowed()) return err(PLAINTEXT_REFUSED);
    if (args.length === 2) return this.plainResponse(args[1]!);
    this.saslPending = "PLAIN";
    return challenge("");
  }

  private async saslResponse(line: string): Promise<Pop3Response> {
    this.saslPending = undefined;
    // RFC 5034 §4: "*" cancels the exchange, answered with -ERR.
    if (line === "*") return err("authentication cancelled");
    if (Buffer.byteLength(line, "utf8") > MAX_SASL_RESPONSE_OCTETS) return err("SASL response too long, authentication cancelled");
    try {
      return await this.plainResponse(line);
    } catch (error) {
      this.opts.observer?.error?.(error, "AUTH");
      return err("[SYS/TEMP] internal error, try again later");
    }
  }

  private async plainResponse(response: string): Promise<Pop3Response> {
    const decoded = decodePlain(response);
    if (!decoded.ok) return err(decoded.error);
    const { authzid, authcid, password } = decoded.credentials;
    // RFC 4616 §2: acting as another identity needs an authorization Correo does not grant.
    if (authzid !== "" && authzid.toLowerCase() !== authcid.toLowerCase()) {
      return err("[AUTH] authorization identity must be empty or the user's own");
    }
    return this.login(authcid, password);
  }

  private userCommand(args: string[]): Pop3Response {
    if (!this.loginAllowed()) return err(PLAINTEXT_REFUSED);
    if (args.length !== 1) return err("USER needs one argument: the e-mail address");
    this.user = args[0];
    // RFC 1939 §7: the reply must not tell whether the mailbox exists.
    return ok("send PASS");
  }

  private async passCommand(args: string[]): Promise<Pop3Response> {
    const user = this.user;
    if (user === undefined) return err("USER first");
    const password = args[0];
    if (password === undefined || password === "") return err("PASS needs one argument: the password");
    // Whatever happens next, a new PASS needs a new USER (RFC 1939 §7 example).
    this.user = undefined;
    return this.login(user, password);
  }

  private async unguarded(check: () => Promise<Pop3Account | undefined>): Promise<LoginOutcome<Pop3Account>> {
    const account = await check();
    if (account) return { outcome: "ok", account };
    await this.opts.delayAfterAuthFailure?.();
    return { outcome: "failed", delayMs: 0 };
  }

  /** Checks the credentials (PASS or AUTH), then locks the maildrop and enters TRANSACTION. */
  private async login(user: string, password: string): Promise<Pop3Response> {
    const check = () => this.opts.authenticator.authenticate(user, password);
    const outcome = this.opts.guardLogin ? await this.opts.guardLogin(user, check) : await this.unguarded(check);
    if (outcome.outcome === "refused") {
      // RFC 3206 §4: SYS/TEMP, a temporary problem; this client address has failed too often.
      return err(`[SYS/TEMP] too many failed logins from your address, try again in ${Math.ceil(outcome.retryAfterMs / 1000)} seconds`);
    }
    if (outcome.outcome === "failed") {
      this.authFailures++;
      this.opts.observer?.authFailed?.(user);
      const close = this.authFailures >= (this.opts.maxAuthFailures ?? DEFAULT_MAX_AUTH_FAILURES);
      // RFC 3206 §4: [AUTH] tells the client the credentials are wrong, not the server.
      return { ...err(close ? "[AUTH] invalid user name or password, closing" : "[AUTH] invalid user name or password"), close };
    }

    const account = outcome.account;
    const maildrop = await this.opts.store.open(account);
    // RFC 2449 §8.1.2: IN-USE when the credentials are right but the maildrop is locked.
    if (maildrop === "in-use") return err("[IN-USE] maildrop is locked by another session");
    if (this.closed) {
      // The connection went away while the maildrop was being opened.
      await maildrop.release();
      return { ...err("session is closed"), close: true };
    }
    this.maildrop = maildrop;
    this.current = "TRANSACTION";
    this.opts.observer?.loggedIn?.(account);
    const { count, octets } = this.totals();
    return ok(`maildrop locked and ready, ${count} messages (${octets} octets)`);
  }

  /**
   * RFC 2449 §6, per state: STLS while it can still be used (RFC 2595 §4); USER and
   * SASL only in AUTHORIZATION and only where a password may be sent (auth-policy.ts),
   * so a client that reads CAPA before and after STLS sees them appear with TLS.
   * PIPELINING holds because the listener answers commands strictly in order.
   */
  private capaCommand(): Pop3Response {
    const authorization = this.current === "AUTHORIZATION";
    const login = authorization && this.loginAllowed();
    const caps = [
      ...(authorization && !this.tls && (this.opts.security?.stlsAvailable ?? false) ? ["STLS"] : []),
      ...(login ? ["USER", `SASL ${SASL_MECHANISMS.join(" ")}`] : []),
      "TOP",
      "UIDL",
      "RESP-CODES",
      "AUTH-RESP-CODE",
      "PIPELINING",
      "IMPLEMENTATION Correo",
    ];
    return ok("capability list follows", caps);
  }

  // --- TRANSACTION (RFC 1939 §5, §7) ------------------------------------------------

  private statCommand(): Pop3Response {
    const { count, octets } = this.totals();
    return ok(`${count} ${octets}`);
  }

  private listCommand(args: string[]): Pop3Response {
    return this.scanListing(args, (n, m) => `${n} ${m.size}`, "scan listing follows");
  }

  private uidlCommand(args: string[]): Pop3Response {
    return this.scanListing(args, (n, m) => `${n} ${m.uniqueId}`, "unique-id listing follows");
  }

  /** LIST and UIDL share their shape: one line for `msg`, or a multi-line listing of all. */
  private scanListing(args: string[], line: (n: number, m: MaildropMessage) => string, title: string): Pop3Response {
    if (args.length > 1) return err("too many arguments");
    if (args.length === 1) {
      const found = this.message(args[0]);
      return "error" in found ? found.error : ok(line(found.n, found.message));
    }
    const lines: string[] = [];
    this.messages().forEach((m, i) => {
      if (!this.deleted.has(i + 1)) lines.push(line(i + 1, m));
    });
    return ok(title, lines);
  }

  private async retrCommand(args: string[]): Promise<Pop3Response> {
    if (args.length !== 1) return err("RETR needs one argument: the message number");
    const found = this.message(args[0]);
    if ("error" in found) return found.error;
    // Streamed: a 50 MB message held whole (read, split, stuffed, joined) cost ~8x its size.
    const body = await this.maildrop!.stream(found.message);
    if (!body) return err(`[SYS/PERM] message ${found.n} is no longer available`);
    return okStreamed(`${found.message.size} octets`, body);
  }

  private async topCommand(args: string[]): Promise<Pop3Response> {
    if (args.length !== 2) return err("TOP needs two arguments: the message number and a number of lines");
    const found = this.message(args[0]);
    if ("error" in found) return found.error;
    if (!LINE_COUNT.test(args[1]!)) return err("invalid number of lines");
    const content = await this.maildrop!.content(found.message);
    if (!content) return err(`[SYS/PERM] message ${found.n} is no longer available`);
    return ok("top of message follows", topLines(content, Number(args[1])));
  }

  private deleCommand(args: string[]): Pop3Response {
    if (args.length !== 1) return err("DELE needs one argument: the message number");
    const n = this.messageNumber(args[0]);
    if (n === undefined) return err("no such message");
    if (this.deleted.has(n)) return err(`message ${n} already deleted`);
    // RFC 1939 §6: only marked now; removed in the UPDATE state.
    this.deleted.add(n);
    return ok(`message ${n} deleted`);
  }

  private rsetCommand(): Pop3Response {
    this.deleted.clear();
    const { count, octets } = this.totals();
    return ok(`maildrop has ${count} messages (${octets} octets)`);
  }

  // --- QUIT and the UPDATE state (RFC 1939 §6) --------------------------------------

  private async quitCommand(): Promise<Pop3Response> {
    this.closed = true;
    if (this.current === "AUTHORIZATION") {
      // RFC 1939 §6: QUIT in AUTHORIZATION does not enter UPDATE.
      return { ...ok(`${this.opts.hostname} Correo POP3 signing off`), close: true };
    }
    this.current = "UPDATE";
    const all = this.messages();
    const doomed = all.filter((_, i) => this.deleted.has(i + 1));
    try {
      if (doomed.length) await this.maildrop!.expunge(doomed);
    } catch (error) {
      this.opts.observer?.error?.(error, "QUIT");
      await this.releaseMaildrop();
      return { ...err("[SYS/TEMP] some deleted messages not removed"), close: true };
    }
    await this.releaseMaildrop();
    const left = all.length - doomed.length;
    return { ...ok(`${this.opts.hostname} Correo POP3 signing off (${left} messages left)`), close: true };
  }

  // --- helpers of this state machine --------------------------------------------------

  private messages(): readonly MaildropMessage[] {
    return this.maildrop?.messages ?? [];
  }

  private totals(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    this.messages().forEach((m, i) => {
      if (this.deleted.has(i + 1)) return;
      count++;
      octets += m.size;
    });
    return { count, octets };
  }

  /** A message number that exists in this session's snapshot (deleted or not). */
  private messageNumber(arg: string | undefined): number | undefined {
    if (arg === undefined || !MESSAGE_NUMBER.test(arg)) return undefined;
    const n = Number(arg);
    return n <= this.messages().length ? n : undefined;
  }

  /** RFC 1939 §5: a message marked as deleted may not be referred to. */
  private message(arg: string | undefined): { n: number; message: MaildropMessage } | { error: Pop3Response } {
    const n = this.messageNumber(arg);
    if (n === undefined || this.deleted.has(n)) return { error: err("no such message") };
    return { n, message: this.messages()[n - 1]! };
  }

  private async releaseMaildrop(): Promise<void> {
    const maildrop = this.maildrop;
    this.maildrop = undefined;
    if (!maildrop) return;
    // A lock that cannot be released now expires by itself; the session still ends.
    await maildrop.release().catch((error: unknown) => this.opts.observer?.error?.(error, "release"));
  }
}
