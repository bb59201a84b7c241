/**
 * The POP3 TCP listener: accepts connections, frames CRLF command lines, feeds them in
 * order to one Pop3Session per connection and writes its responses. Limits and timers
 * live here; protocol behaviour lives in session.ts.
 */
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { counter, metricNames, type Logger } from "@correo/telemetry";
import { MAX_COMMAND_OCTETS } from "./parser.js";
import { encodeResponse, err, type Pop3Response } from "./response.js";
import { Pop3Session, type MaildropStore, type Pop3Authenticator } from "./session.js";

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
  /** Pause before answering a failed PASS. */
  authFailureDelayMs?: number;
  /** Connections beyond this are turned away with -ERR [SYS/TEMP]. */
  maxConnections?: number;
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

const sessions = () => counter(metricNames.protocolSessions, "Protocol sessions opened, by protocol");
const authFailures = () => counter(metricNames.protocolAuthFailures, "Failed logins, by protocol");
const commands = () => counter(metricNames.protocolCommands, "Protocol commands received, by protocol and command");

export async function startPop3Listener(opts: Pop3ListenerOptions): Promise<Pop3Listener> {
  const open = new Set<Pop3Connection>();
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  const server: Server = createServer((socket) => {
    if (open.size >= maxConnections) {
      socket.on("error", () => undefined);
      socket.end(encodeResponse(err("[SYS/TEMP] too many connections, try again later")));
      return;
    }
    sessions().add(1, { protocol: "pop3" });
    const conn = new Pop3Connection(socket, opts);
    open.add(conn);
    void conn.finished.then(() => open.delete(conn));
  });
  server.on("error", (e: Error) => opts.log.error({ err: e.message }, "POP3 listener error"));
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

/** One client: line framing, an in-order command queue and the session behind it. */
class Pop3Connection {
  readonly finished: Promise<void>;
  private readonly session: Pop3Session;
  private readonly log: Logger;
  private pending: Buffer = Buffer.alloc(0);
  private discarding = false;
  private readonly queue: QueuedLine[] = [];
  private working: Promise<void> | undefined;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    opts: Pop3ListenerOptions,
  ) {
    this.log = opts.log.child({ protocol: "pop3", remote: `${socket.remoteAddress}:${socket.remotePort}` });
    const delayMs = opts.authFailureDelayMs ?? DEFAULT_AUTH_FAILURE_DELAY_MS;
    this.session = new Pop3Session({
      hostname: opts.hostname,
      authenticator: opts.authenticator,
      store: opts.store,
      delayAfterAuthFailure: () => new Promise((resolve) => setTimeout(resolve, delayMs)),
      observer: {
        command: (command) => commands().add(1, { protocol: "pop3", command }),
        authFailed: (user) => {
          authFailures().add(1, { protocol: "pop3" });
          this.log.info({ user }, "POP3 authentication failed");
        },
        loggedIn: (account) => this.log.debug({ account: account.address }, "POP3 login"),
        error: (error, command) =>
          this.log.error({ err: error instanceof Error ? error.message : String(error), command }, "POP3 command failed"),
      },
    });

    this.finished = new Promise<void>((resolve) => {
      socket.once("close", () => {
        this.closing = true;
        // RFC 1939 §6: a session that ends without QUIT never enters UPDATE; the
        // command in flight finishes first, then the maildrop lock is released.
        void Promise.resolve(this.working)
          .then(() => this.session.abort())
          .catch((e: Error) => this.log.warn({ err: e.message }, "error while ending a POP3 session"))
          .finally(resolve);
      });
    });
    socket.on("error", (e: Error) => this.log.debug({ err: e.message }, "POP3 connection error"));
    // RFC 1939 §3: on autologout the server closes without a response and without UPDATE.
    socket.setTimeout(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
      this.log.debug("POP3 idle timeout");
      socket.destroy();
    });
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    void this.send(this.session.greeting());
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
   * CRLF framing. RFC 2449 §4: a command line is at most 255 octets; a longer one is
   * discarded up to its line end and answered with one -ERR, so the next command
   * still lines up with its response. A bare LF is accepted as a line end.
   */
  private receive(chunk: Buffer): void {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (let lf = data.indexOf(0x0a, start); lf !== -1; lf = data.indexOf(0x0a, start)) {
      const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
      if (this.discarding || end - start > MAX_COMMAND_OCTETS) this.queue.push({ tooLong: true });
      else this.queue.push({ line: data.toString("utf8", start, end) });
      this.discarding = false;
      start = lf + 1;
    }
    const rest = data.subarray(start);
    // Without its line end yet, a line may hold MAX_COMMAND_OCTETS octets and a CR.
    if (this.discarding || rest.length > MAX_COMMAND_OCTETS + 1) {
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
      const response = "line" in next ? await this.session.handleLine(next.line) : err("line too long");
      await this.send(response);
      if (response.close) {
        this.closing = true;
        this.socket.end();
        return;
      }
      if (this.queue.length < MAX_QUEUED_LINES / 2) this.socket.resume();
    }
  }

  /** Writes a response, waiting while the socket's buffer is full (large RETRs). */
  private async send(response: Pop3Response): Promise<void> {
    if (this.socket.destroyed) return;
    if (!this.socket.write(encodeResponse(response))) {
      // A socket error also ends the wait; the "close" handler then cleans up.
      await Promise.race([once(this.socket, "drain"), once(this.socket, "close")]).catch(() => undefined);
    }
  }
}
