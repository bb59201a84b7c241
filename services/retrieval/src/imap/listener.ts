/**
 * The IMAP listeners: plain with STARTTLS (RFC 3501 §6.2.1) and implicit TLS
 * (RFC 8314). Each connection frames the byte stream (packages/imap's CommandFramer),
 * queues the lines and feeds them in order to one ImapSession. Limits and timers
 * live here; protocol behaviour lives in packages/imap.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, TLSSocket, type SecureContext } from "node:tls";
import { once } from "node:events";
import { constants as zlib, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";
import { CommandFramer, ImapSession, commandNameOf, DEFAULT_LIMITS, type ChangeNotifier, type FramedLine, type FramerLimits, type ImapStorage } from "@correo/imap";
import type { LoginThrottle } from "@correo/login-throttle";
import { listenerMetricsAtZero, protocolSession, type Logger } from "@correo/telemetry";

export interface ImapListenerOptions {
  host: string;
  /** Plain port with STARTTLS; 0 picks a free port. */
  port: number;
  /** Implicit-TLS port; undefined: none. 0 picks a free port. */
  tlsPort?: number;
  hostname: string;
  storage: ImapStorage;
  notifier?: ChangeNotifier;
  /** The certificate of STARTTLS and the implicit-TLS port (packages/tls loadTlsCredentials). */
  tls: { key: string; cert: string; context: SecureContext };
  log: Logger;
  limits?: FramerLimits;
  /** RFC 3501 §5.4: the autologout timer is at least 30 minutes. */
  idleTimeoutMs?: number;
  /** Failed logins per client address and account (Redis, shared with SMTP, POP3 and HTTP). */
  logins?: LoginThrottle;
  /** Without `logins`: the fixed pause before answering a failed login. */
  authFailureDelayMs?: number;
  /** IMAP_MAX_CONNECTIONS: connections of both listeners together; the next gets BYE [UNAVAILABLE]. */
  maxConnections?: number;
}

export interface ImapListener {
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly connections: number;
  close(): Promise<void>;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_MAX_CONNECTIONS = 2000;
const MAX_QUEUED_LINES = 64;

export async function startImapListener(opts: ImapListenerOptions): Promise<ImapListener> {
  const open = new Set<ImapConnection>();
  listenerMetricsAtZero("imap");
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const accept = (socket: Socket | TLSSocket, secure: boolean) => {
    socket.on("error", () => undefined);
    if (open.size >= maxConnections) {
      socket.end("* BYE [UNAVAILABLE] too many connections, try again later\r\n");
      return;
    }
    const conn = new ImapConnection(socket, secure, opts);
    open.add(conn);
    void conn.finished.then(() => open.delete(conn));
  };
  const plain: Server = createServer((s) => accept(s, false));
  plain.on("error", (e: Error) => opts.log.error({ err: e.message }, "IMAP listener error"));
  plain.listen(opts.port, opts.host);
  await once(plain, "listening");
  let tls: Server | undefined;
  if (opts.tlsPort !== undefined) {
    tls = createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, (s) => accept(s, true));
    tls.on("tlsClientError", (e: Error) => opts.log.debug({ err: e.message }, "IMAPS handshake failed"));
    tls.listen(opts.tlsPort, opts.host);
    await once(tls, "listening");
  }
  const portOf = (s: Server | undefined) => {
    const a = s?.address();
    return typeof a === "object" && a ? a.port : undefined;
  };
  return {
    port: portOf(plain)!,
    tlsPort: portOf(tls),
    get connections() {
      return open.size;
    },
    async close() {
      const closed = [plain, tls].filter((s): s is Server => !!s).map((s) => new Promise<void>((r) => s.close(() => r())));
      await Promise.all([...open].map((c) => c.shutdown()));
      await Promise.all(closed);
    },
  };
}

type Queued = FramedLine | { tooBig: string | undefined; what: "line" | "literal"; fatal?: boolean };

class ImapConnection {
  readonly finished: Promise<void>;
  private socket: Socket | TLSSocket;
  private framer: CommandFramer;
  private readonly session: ImapSession;
  private readonly queue: Queued[] = [];
  private waiting: ((q: Queued | undefined) => void) | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly telemetry = protocolSession("imap");
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(socket: Socket | TLSSocket, secure: boolean, private readonly opts: ImapListenerOptions) {
    this.socket = socket;
    this.framer = new CommandFramer(opts.limits ?? DEFAULT_LIMITS);
    this.log = opts.log.child({ protocol: "imap", remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const delayMs = opts.authFailureDelayMs ?? 1000;
    this.session = new ImapSession({
      hostname: opts.hostname,
      appendLimit: (opts.limits ?? DEFAULT_LIMITS).maxLiteralOctets,
      storage: opts.storage,
      notifier: opts.notifier,
      secure,
      tlsAvailable: true,
      delayAfterAuthFailure: () => new Promise((r) => setTimeout(r, delayMs)),
      guardLogin: opts.logins ? (user, check) => opts.logins!.attempt(socket.remoteAddress, user, check) : undefined,
      io: {
        write: (data) => this.write(data),
        nextLine: async () => {
          const q = await this.take();
          if (!q) return undefined;
          return "segments" in q ? q : { segments: [""], literals: [] };
        },
        lineAvailable: async () => undefined,
        startTls: () => this.startTls(),
        startCompression: (sendOk) => this.startCompression(sendOk),
      },
      observer: {
        authFailed: (user) => {
          this.telemetry.authFailed("PLAIN");
          this.log.info({ user }, "IMAP authentication failed");
        },
        loggedIn: (user) => {
          this.telemetry.set({ "correo.account": user.address });
          this.log.debug({ account: user.address }, "IMAP login");
        },
        error: (error, command) => this.log.error({ err: error instanceof Error ? error.message : String(error), command }, "IMAP command failed"),
      },
    });
    this.finished = new Promise<void>((resolve) => this.resolveFinished = resolve);
    this.attach(socket);
    void this.write(this.session.greeting());
    void this.run();
  }

  private resolveFinished: () => void = () => undefined;

  private attach(socket: Socket | TLSSocket): void {
    // A response is often several writes (untagged lines, then the tagged one): without
    // NODELAY, Nagle holds the later ones for the client's delayed ACK, ~40 ms a command.
    socket.setNoDelay(true);
    socket.on("data", this.onData);
    socket.once("close", () => this.ended());
    socket.on("error", (e: Error) => this.log.debug({ err: e.message }, "IMAP connection error"));
    socket.setTimeout(this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      void this.write(Buffer.from("* BYE autologout; idle for too long\r\n")).finally(() => socket.destroy());
    });
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.deflate?.destroy();
    this.inflate?.destroy();
    this.waiting?.(undefined);
    this.waiting = undefined;
    void this.session.end().finally(() => {
      this.telemetry.close();
      this.resolveFinished();
    });
  }

  private receive(chunk: Buffer): void {
    for (const ev of this.framer.push(chunk)) {
      if (ev.kind === "continue") void this.write(Buffer.from("+ Ready for literal data\r\n"));
      else if (ev.kind === "line") this.enqueue(ev.line);
      else this.enqueue({ tooBig: ev.tag, what: ev.what, fatal: ev.fatal });
    }
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
  }

  private enqueue(q: Queued): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(q);
    } else this.queue.push(q);
  }

  private take(): Promise<Queued | undefined> {
    const q = this.queue.shift();
    if (this.queue.length < MAX_QUEUED_LINES / 2 && !this.closed) this.socket.resume();
    if (q) return Promise.resolve(q);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private async run(): Promise<void> {
    for (let q = await this.take(); q; q = await this.take()) {
      if (!("segments" in q)) {
        // RFC 7888 §4 / RFC 9051 §7.1: TOOBIG for an oversized line or literal.
        await this.write(Buffer.from(`${q.tooBig ?? "*"} ${q.tooBig ? "NO" : "BAD"} [TOOBIG] ${q.what === "literal" ? `literal larger than ${(this.opts.limits ?? DEFAULT_LIMITS).maxLiteralOctets} octets` : "command line too long"}\r\n`));
        if (q.fatal) {
          await this.write(Buffer.from("* BYE the literal cannot be accepted; closing\r\n"));
          this.socket.end();
          return;
        }
        continue;
      }
      const line = q;
      const outcome = await this.telemetry.command(commandNameOf(line), () => this.session.handleLine(line));
      if (outcome === "close") {
        this.socket.end();
        return;
      }
    }
  }

  /** RFC 3501 §6.2.1: anything the client pipelined after STARTTLS is discarded (no plaintext injection). */
  private async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeListener("data", this.onData);
    this.queue.length = 0;
    this.framer = new CommandFramer(this.opts.limits ?? DEFAULT_LIMITS);
    plain.pause();
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.opts.tls.context });
    this.socket = secure;
    secure.on("data", this.onData);
    secure.on("error", (e: Error) => this.log.debug({ err: e.message }, "IMAP TLS error"));
    await once(secure, "secure");
  }

  /** RFC 4978 §4: raw DEFLATE each way; every response is flushed (Z_SYNC_FLUSH) so the client can read it at once. */
  private deflate: DeflateRaw | undefined;
  private inflate: InflateRaw | undefined;

  /**
   * RFC 4978 §3: the client sends compressed data only after the OK, so input switches first
   * (nothing pipelined after COMPRESS is read as plain text), then the OK goes out plain,
   * then output switches.
   */
  private async startCompression(sendOk: () => Promise<void>): Promise<void> {
    const socket = this.socket;
    socket.removeListener("data", this.onData);
    this.queue.length = 0;
    this.framer = new CommandFramer(this.opts.limits ?? DEFAULT_LIMITS);
    const inflate = createInflateRaw();
    inflate.on("data", this.onData);
    inflate.on("error", (e: Error) => {
      this.log.debug({ err: e.message }, "IMAP DEFLATE input is not valid; closing");
      socket.destroy();
    });
    socket.on("data", (chunk: Buffer) => inflate.write(chunk));
    this.inflate = inflate;
    await sendOk();
    const deflate = createDeflateRaw();
    deflate.on("data", (chunk: Buffer) => {
      if (!socket.destroyed) socket.write(chunk);
    });
    this.deflate = deflate;
  }

  private async write(data: Buffer): Promise<void> {
    if (this.socket.destroyed || this.closed) return;
    if (this.deflate) {
      const deflate = this.deflate;
      deflate.write(data);
      await new Promise<void>((resolve) => deflate.flush(zlib.Z_SYNC_FLUSH, () => resolve()));
      if (this.socket.writableNeedDrain) await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]).catch(() => undefined);
      return;
    }
    if (!this.socket.write(data)) {
      await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]).catch(() => undefined);
    }
  }

  async shutdown(): Promise<void> {
    await this.write(Buffer.from("* BYE server shutting down\r\n"));
    this.socket.destroy();
    await this.finished;
  }
}
