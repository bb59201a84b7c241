import type { AddressInfo } from "node:net";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import type { TlsCredentials } from "@correo/tls";
import { listenerMetricsAtZero, protocolSession, type ProtocolSession } from "@correo/telemetry";
import { connectionCapVerdict, DEFAULT_MAX_CONNECTIONS } from "./connection-cap.js";
import { installEnhancedStatusCodes } from "./enhanced-status.js";
import { installPathParsing } from "./path.js";
import { replies, replyError } from "./replies.js";
import { SmtpTransaction, type ListenerKind, type TransactionDeps } from "./transaction.js";

export interface SmtpListenerOptions extends TransactionDeps {
  host: string;
  port: number;
  tls: TlsCredentials;
  /** SMTP_MAX_CONNECTIONS: this listener's connections from all clients together (connection-cap.ts). */
  maxConnections?: number;
}

export interface SmtpListener {
  kind: ListenerKind;
  port: number;
  close(): Promise<void>;
}

type Done = (err?: Error | null, ...rest: unknown[]) => void;

/**
 * Runs an smtp-server stage handler (callback style) as one command of the session's
 * telemetry: a child span, the command counter and its latency; a refusal (an error
 * passed to `done`) is recorded as the command's outcome.
 */
function instrumented<A extends unknown[]>(
  command: string,
  telemetryOf: (session: SMTPServerSession) => ProtocolSession | undefined,
  handler: ((...args: [...A, SMTPServerSession, Done]) => void) | undefined,
): ((...args: [...A, SMTPServerSession, Done]) => void) | undefined {
  if (!handler) return undefined;
  return (...args) => {
    const done = args[args.length - 1] as Done;
    const session = args[args.length - 2] as SMTPServerSession;
    const telemetry = telemetryOf(session);
    if (!telemetry) return handler(...args);
    const callArgs = args.slice(0, -1) as unknown[];
    void telemetry
      .command(
        command,
        () => new Promise<unknown[]>((resolve) => (handler as (...a: unknown[]) => void)(...callArgs, (...result: unknown[]) => resolve(result))),
        (result) => (result[0] ? "error" : "ok"),
      )
      .then((result) => done(...(result as [Error | null | undefined, ...unknown[]])));
  };
}

/** What the three listeners share: extensions, limits, TLS, and the transaction stages. */
export function baseOptions(kind: ListenerKind, opts: SmtpListenerOptions, tx: SmtpTransaction): SMTPServerOptions {
  const { limits } = opts;
  return {
    name: opts.hostname,
    banner: "Correo",
    key: opts.tls.key,
    cert: opts.tls.cert,
    logger: false,
    // The name in Received: is the client's EHLO and address; a PTR lookup per connection buys nothing here.
    disableReverseLookup: true,
    // RFC 1870 SIZE; a message over it is answered 552 5.3.4 and not stored.
    size: limits.maxMessageSize,
    rejectOversized: true,
    // Advertised: PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES (RFC 2034), DSN (RFC 3461).
    hideDSN: false,
    hideENHANCEDSTATUSCODES: false,
    maxRecipients: limits.maxRecipients,
    socketTimeout: limits.idleTimeoutMs,
    closeTimeout: 5000,
    maxCommandLength: 4096,
    onMailFrom: (address, session, done) => void tx.onMailFrom(address, session, done),
    onRcptTo: (address, session, done) => void tx.onRcptTo(address, session, done),
    onData: (stream, session, done) => tx.onData(stream, session, done),
  };
}

/**
 * Starts one SMTP listener on smtp-server. Each connection holds a lease per client
 * address in Redis (a limit shared by every copy of the service, `limits.ts`) and may
 * last at most SMTP_SESSION_TIMEOUT in all, whatever it does.
 */
export async function startSmtpListener(
  kind: ListenerKind,
  opts: SmtpListenerOptions,
  listenerOptions: (tx: SmtpTransaction) => SMTPServerOptions,
): Promise<SmtpListener> {
  installEnhancedStatusCodes();
  installPathParsing();
  const tx = new SmtpTransaction(kind, opts);
  listenerMetricsAtZero("smtp", { listener: kind });
  const counted = new Set<string>();
  const telemetry = new Map<string, ProtocolSession>();
  const telemetryOf = (session: SMTPServerSession) => telemetry.get(session.id);
  const timers = new Map<string, NodeJS.Timeout>();
  let server: SMTPServer;
  const { limits, counters, log } = opts;

  const onConnect = async (session: SMTPServerSession, done: (err?: Error | null) => void) => {
    telemetry.set(session.id, protocolSession("smtp", { "network.peer.address": session.remoteAddress }, { listener: kind }));
    const busy = connectionCapVerdict(server.connections.size, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    if (busy) return done(replyError(busy));
    try {
      const open = await counters.connectionOpened(session.remoteAddress, session.id, limits.maxConnectionsPerIp);
      if (open > limits.maxConnectionsPerIp) {
        return done(replyError(replies.tooManyConnections(limits.maxConnectionsPerIp)));
      }
      counted.add(session.id);
    } catch (err) {
      // Redis away: the connection limit is not enforced rather than refusing all mail.
      log.warn({ err: (err as Error).message }, "SMTP connection counter unavailable");
    }
    const timer = setTimeout(() => {
      const conn = [...server.connections].find((c) => (c as unknown as { id: string }).id === session.id);
      // A 421 makes smtp-server close the connection after the reply (RFC 5321 §3.8).
      conn?.send(421, `${replies.sessionTimeout().enhanced} ${replies.sessionTimeout().text}`);
    }, limits.sessionTimeoutMs);
    timer.unref();
    timers.set(session.id, timer);
    done();
  };

  const onClose = (session: SMTPServerSession) => {
    telemetry.get(session.id)?.close();
    telemetry.delete(session.id);
    clearTimeout(timers.get(session.id));
    timers.delete(session.id);
    tx.forget(session);
    if (counted.delete(session.id)) {
      counters.connectionClosed(session.remoteAddress, session.id).catch(() => undefined);
    }
  };

  const options = listenerOptions(tx);
  server = new SMTPServer({
    ...options,
    onAuth: instrumented("AUTH", telemetryOf, options.onAuth as never),
    onMailFrom: instrumented("MAIL", telemetryOf, options.onMailFrom as never),
    onRcptTo: instrumented("RCPT", telemetryOf, options.onRcptTo as never),
    onData: instrumented("DATA", telemetryOf, options.onData as never),
    onConnect: (session, done) => void onConnect(session, done),
    onClose,
  });
  server.on("error", (err) => log.warn({ err: err.message, listener: kind }, "SMTP listener error"));
  await new Promise<void>((resolve, reject) => {
    const net = server.listen(opts.port, opts.host, () => resolve());
    net.once("error", reject);
  });
  const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
  return {
    kind,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
