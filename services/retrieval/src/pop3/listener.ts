/**
 * The POP3 TCP listener: accepts connections (in the clear with STLS, or POP3S with
 * TLS from the first octet), frames CRLF command lines, feeds them in order to one
 * Pop3Session per connection and writes its responses. Limits, timers and the TLS
 * handshake live here; protocol behaviour lives in packages/pop3.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, TLSSocket } from "node:tls";
import { once } from "node:events";
import type { LoginThrottle } from "@correo/login-throttle";
import { listenerMetricsAtZero, protocolSession, type Logger, type ProtocolSession } from "@correo/telemetry";
import type { TlsCredentials } from "@correo/tls";
import { ConnectionSlots } from "../connection-slots.js";
import {
  encodeResponse,
  err,
  MAX_SASL_RESPONSE_OCTETS,
  plaintextAuthAllowed,
  Pop3Session,
  ResponseCode,
  responseChunks,
  withCode,
  type MaildropStore,
  type PlaintextAuthPolicy,
  type Pop3Authenticator,
  type Pop3Response,
} from "@correo/pop3";

export interface Pop3ListenerOptions {
  host: string;
  /** 0 picks a free port; see `Pop3Listener.port`. */
  port: number;
  /** The server's name in the greeting. */
  hostname: string;
  authenticator: Pop3Authenticator;
  store: MaildropStore;
  log: Logger;
  /** RFC 1939 §3: the autologout timer must be at least 10 minutes (the default). */
  idleTimeoutMs?: number;
  /** Failed logins per client address and account (Redis, shared with SMTP, IMAP and HTTP). */
  logins?: LoginThrottle;
  /** Without `logins`: the fixed pause before answering a failed PASS. */
  authFailureDelayMs?: number;
  /** Connections beyond this are turned away with -ERR [SYS/TEMP]. */
  maxConnections?: number;
  /** A count shared with other listeners (POP3 and POP3S: POP3_MAX_CONNECTIONS); without it, `maxConnections` of this one. */
  slots?: ConnectionSlots;
  /** The certificate (packages/tls). On a plain listener it makes STLS available; POP3S needs it. */
  tls?: TlsCredentials;
  /** POP3S (RFC 8314 §3.3): TLS from the first octet; `tls` is then required. */
  implicitTls?: boolean;
  /** Where USER/PASS and AUTH PLAIN may be used before TLS (POP3_PLAINTEXT_AUTH; default "loopback"). */
  plaintextAuth?: PlaintextAuthPolicy;
  /** A TLS handshake not finished within this is dropped. */
  tlsHandshakeTimeoutMs?: number;
}

export interface Pop3Listener {
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, ends every session without UPDATE (RFC 1939 §6) and waits for their locks to go. */
  close(): Promise<void>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_AUTH_FAILURE_DELAY_MS = 1000;
const DEFAULT_MAX_CONNECTIONS = 1000;
/** Command lines read ahead of the one being answered (RFC 2449 §6.6 pipelining) before reading pauses. */
const MAX_QUEUED_LINES = 64;
/**
 * The longest line framed: SASL responses may exceed the 255-octet command limit
 * (RFC 5034 §4), which the parser still enforces for commands.
 */
const MAX_LINE_OCTETS = MAX_SASL_RESPONSE_OCTETS;
const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 30_000;


export async function startPop3Listener(opts: Pop3ListenerOptions): Promise<Pop3Listener> {
  const open = new Set<Pop3Connection>();
  const slots = opts.slots ?? new ConnectionSlots(opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  if (opts.implicitTls && !opts.tls) throw new Error("a POP3S listener needs a certificate (tls)");
  const handshakeTimeout = opts.tlsHandshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
  listenerMetricsAtZero("pop3", { tls: opts.implicitTls ? "implicit" : "none" });

  const accept = (socket: Socket) => {
    if (!slots.take()) {
      socket.on("error", () => undefined);
      // RFC 3206 §4: SYS/TEMP, a temporary problem of the server; try again later.
      socket.end(encodeResponse(err(withCode(ResponseCode.sysTemp, "too many connections, try again later"))));
      return;
    }
    const conn = new Pop3Connection(socket, opts, handshakeTimeout);
    open.add(conn);
    void conn.finished.then(() => {
      open.delete(conn);
      slots.give();
    });
  };
  const server: Server = opts.implicitTls
    ? createTlsServer({ key: opts.tls!.key, cert: opts.tls!.cert, handshakeTimeout }, accept)
    : createServer(accept);
  server.on("error", (e: Error) => opts.log.error({ err: e.message }, "POP3 listener error"));
  // A failed handshake on POP3S never reaches a session; it is the client's problem.
  server.on("tlsClientError", (e: Error) => opts.log.debug({ err: e.message }, "POP3S TLS handshake failed"));
  server.listen(opts.port, opts.host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;

  return {
    port,
    get connections() {
      return open.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...open].map((c) => c.shutdown()));
      await closed;
    },
  };
}

type QueuedLine = { line: string } | { tooLong: true };

/** One client: line framing, an in-order command queue, the session behind it, and STLS. */
class Pop3Connection {
  readonly finished: Promise<void>;
  private readonly session: Pop3Session;
  /** The session span, its command spans, and the protocol metrics (sessions, commands, latency, auth failures). */
  private readonly telemetry: ProtocolSession;
  private readonly log: Logger;
  /** The socket spoken on: the accepted one, or the TLSSocket that STLS put over it. */
  private socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private discarding = false;
  private readonly queue: QueuedLine[] = [];
  private working: Promise<void> | undefined;
  private closing = false;
  private ended: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    accepted: Socket,
    private readonly opts: Pop3ListenerOptions,
    private readonly tlsHandshakeTimeoutMs: number,
  ) {
    this.socket = accepted;
    this.log = opts.log.child({ protocol: "pop3", remote: `${accepted.remoteAddress}:${accepted.remotePort}` });
    const delayMs = opts.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS;
    this.telemetry = protocolSession(
      "pop3",
      { "network.peer.address": accepted.remoteAddress ?? "" },
      { tls: opts.implicitTls ? "implicit" : "none" },
    );
    this.session = new Pop3Session({
      hostname: opts.hostname,
      authenticator: opts.authenticator,
      store: opts.store,
      security: {
        tls: Boolean(opts.implicitTls),
        stlsAvailable: !opts.implicitTls && opts.tls !== undefined,
        plaintextAuth: plaintextAuthAllowed(opts.plaintextAuth ?? "loopback", accepted.remoteAddress),
      },
      delayAfterAuthFailure: () => new Promise((resolve) => setTimeout(resolve, delayMs)),
      guardLogin: opts.logins ? (user, check) => opts.logins!.attempt(accepted.remoteAddress, user, check) : undefined,
      observer: {
        authFailed: (user) => {
          this.telemetry.authFailed();
          this.log.info({ user }, "POP3 authentication failed");
        },
        loggedIn: (account) => {
          this.telemetry.set({ "correo.account": account.address });
          this.log.debug({ account: account.address }, "POP3 login");
        },
        error: (error, command) =>
          this.log.error({ err: error instanceof Error ? error.message : String(error), command }, "POP3 command failed"),
      },
    });

    this.finished = new Promise<void>((resolve) => (this.ended = resolve));
    this.attach(accepted);
    void this.send(this.session.greeting());
  }

  /** Listens on `socket`: data, errors, the idle timer and its end. Called again after STLS. */
  private attach(socket: Socket): void {
    // A streamed RETR writes its +OK, slices and "." separately: without this, Nagle's
    // algorithm holds each small write for the client's delayed ACK (~40 ms a message).
    socket.setNoDelay(true);
    socket.on("error", (e: Error) => this.log.debug({ err: e.message }, "POP3 connection error"));
    // RFC 1939 §3: on autologout the server closes without a response and without UPDATE.
    socket.setTimeout(this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      this.log.debug("POP3 idle timeout");
      socket.destroy();
    });
    socket.once("close", () => this.end());
    socket.on("data", this.onData);
  }

  /**
   * RFC 1939 §6: a session that ends without QUIT never enters UPDATE; the command in
   * flight finishes first, then the maildrop lock is released. Runs once, whichever of
   * the plain and the TLS socket reports the close first.
   */
  private end(): void {
    const resolve = this.ended;
    if (!resolve) return;
    this.ended = undefined;
    this.closing = true;
    this.socket.destroy();
    void Promise.resolve(this.working)
      .then(() => this.session.abort())
      .catch((e: Error) => this.log.warn({ err: e.message }, "error while ending a POP3 session"))
      .finally(() => {
        this.telemetry.close();
        resolve();
      });
  }

  /** Stops reading, lets the command in flight finish, then closes. */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.socket.pause();
    await this.working;
    this.socket.destroy();
    await this.finished;
  }

  /**
   * CRLF framing. RFC 2449 §4: a command line is at most 255 octets (the parser checks);
   * a line longer than any command or SASL response is discarded up to its line end and
   * answered with one -ERR, so the next command still lines up with its response. A
   * bare LF is accepted as a line end.
   */
  private receive(chunk: Buffer): void {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let lf = data.indexOf(0x0a, start); lf !== -1; lf = data.indexOf(0x0a, start)) {
      const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
      if (this.discarding || end - start > MAX_LINE_OCTETS) this.queue.push({ tooLong: true });
      else this.queue.push({ line: data.toString("utf8", start, end) });
      this.discarding = false;
      start = lf + 1;
    }
    const rest = data.subarray(start);
    // Without its line end yet, a line may hold MAX_LINE_OCTETS octets and a CR.
    if (this.discarding || rest.length > MAX_LINE_OCTETS + 1) {
      this.discarding = true;
      this.pending = Buffer.alloc(0);
    } else {
      this.pending = Buffer.from(rest);
    }
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    this.working ??= this.work().finally(() => (this.working = undefined));
  }

  private async work(): Promise<void> {
    for (let next = this.queue.shift(); next && !this.closing; next = this.queue.shift()) {
      const response =
        "line" in next
          ? await this.telemetry.command(
              this.session.commandOf(next.line),
              () => this.session.handleLine(next.line),
              (r) => (r.ok ? "ok" : "error"),
            )
          : this.session.lineTooLong();
      if (response.startTls) {
        await this.startTls(response);
        return;
      }
      await this.send(response);
      if (response.close) {
        this.closing = true;
        this.socket.end();
        return;
      }
      if (this.queue.length < MAX_QUEUED_LINES / 2) this.socket.resume();
    }
  }

  /**
   * RFC 2595 §4 STLS: the +OK goes out in the clear, then the TLS handshake starts on the
   * same connection. Whatever the client sent after STLS before the handshake arrived in
   * the clear and is discarded (RFC 7817 §3; the command-injection attack of
   * CVE-2011-0411), so an attacker cannot slip commands into the protected session.
   */
  private async startTls(response: Pop3Response): Promise<void> {
    const plain = this.socket;
    // Paused, the ClientHello waits in the socket's buffer; TLSSocket reads it from there.
    plain.pause();
    plain.removeListener("data", this.onData);
    plain.setTimeout(0);
    this.queue.length = 0;
    this.pending = Buffer.alloc(0);
    this.discarding = false;
    await this.send(response);
    if (this.closing || plain.destroyed) return;

    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.opts.tls!.context });
    const handshake = setTimeout(() => secure.destroy(), this.tlsHandshakeTimeoutMs);
    this.socket = secure;
    secure.once("close", () => this.end());
    const done = await Promise.race([
      once(secure, "secure").then(() => true),
      once(secure, "close").then(() => false),
      once(secure, "error").then(
        () => false,
        (e: Error) => {
          this.log.debug({ err: e.message }, "POP3 STLS handshake failed");
          return false;
        },
      ),
    ]);
    clearTimeout(handshake);
    if (!done || this.closing) {
      secure.destroy();
      return;
    }
    this.session.tlsStarted();
    this.attach(secure);
  }

  /**
   * Writes a response, waiting while the socket's buffer is full; a streamed RETR reads
   * its next chunk from the store only once the last one is written.
   */
  private async send(response: Pop3Response): Promise<void> {
    try {
      for await (const octets of responseChunks(response)) {
        const socket = this.socket;
        if (socket.destroyed) return; // leaving the loop stops the read from the store
        if (!socket.write(octets)) {
          // A socket error also ends the wait; the "close" handler then cleans up.
          await Promise.race([once(socket, "drain"), once(socket, "close")]).catch(() => undefined);
        }
      }
    } catch (e) {
      // The +OK and part of the message are out: no -ERR can follow inside a multi-line
      // response, so the connection ends without the terminating "." (the client sees the
      // RETR fail) and without UPDATE (RFC 1939 §6).
      this.log.error({ err: (e as Error).message }, "POP3 response failed while streaming");
      this.socket.destroy();
    }
  }
}
