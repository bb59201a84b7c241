import { isIP } from "node:net";
import nodemailer, { type Transporter } from "nodemailer";
import { classifyError, classifyReply, type Verdict } from "./classify.js";
import type { Target } from "@correo/mx";

export interface SendRequest {
  /** Tried in order until one answers (RFC 5321 §5.1). */
  targets: Target[];
  /** Reverse-path; '' is the null sender <>. */
  envelopeFrom: string;
  recipients: string[];
  raw: Buffer;
  /** EHLO name: CORREO_HOSTNAME. */
  heloName: string;
  connectTimeoutMs: number;
  /** TLS and AUTH towards this hop (a transport override's); default opportunistic STARTTLS. */
  hop?: HopPolicy;
}

/**
 * Postfix's smtp_tls_security_level: `none` never STARTTLS, `may` when offered,
 * `encrypt` required (any certificate), `verify` required with a valid certificate for
 * the host name; plus RFC 4954 AUTH to a smarthost that asks for it.
 */
export interface HopPolicy {
  tls: "none" | "may" | "encrypt" | "verify";
  auth?: { username: string; password: string };
}

export interface SendResult {
  /** The host that answered the transaction, when one did. */
  host: string | undefined;
  /** One verdict per recipient of the request. */
  verdicts: Map<string, Verdict>;
}

/** Sends one message; the seam deliver.ts depends on (tests may pass another). */
export type SmtpSender = (req: SendRequest) => Promise<SendResult>;

// Commands whose reply is about this message: after one, the transaction has an answer
// and trying the next MX would only repeat it. Before (connect, greeting, EHLO,
// STARTTLS), the host did not take part: RFC 5321 §5.1 says try the next one.
const TRANSACTION_COMMANDS = new Set(["MAIL FROM", "RCPT TO", "DATA"]);

interface SendError {
  command?: string;
  responseCode?: number;
  rejectedErrors?: { recipient?: string; responseCode?: number; response?: string }[];
}

/** Which transport carries a request to one target; pooled or one-shot. */
type TransportFor = (target: Target, req: SendRequest) => { transport: Transporter; done(): void };

/**
 * One SMTP transaction for all recipients, with nodemailer's SMTP transport (never
 * hand-written SMTP). Opportunistic STARTTLS (RFC 3207) unless the hop's policy says
 * otherwise; below `verify`, self-signed certificates are accepted: MX hosts rarely
 * have certificates for their own names, and without DANE/MTA-STS there is nothing to
 * check against yet.
 */
async function sendVia(transportFor: TransportFor, req: SendRequest): Promise<SendResult> {
  let lastFailure: Verdict = { outcome: "deferred", reply: "4.4.4 no host to try" };
  for (const target of req.targets) {
    const { transport, done } = transportFor(target, req);
    try {
      const info = (await transport.sendMail({ envelope: { from: req.envelopeFrom, to: req.recipients }, raw: req.raw })) as SentInfo;
      const verdicts = new Map<string, Verdict>();
      for (const err of info.rejectedErrors ?? []) setRejected(verdicts, err);
      const delivered = classifyReply(Number(info.response.slice(0, 3)) || 250, `${info.response} (${describe(target)})`);
      for (const r of info.accepted) if (!verdicts.has(String(r))) verdicts.set(String(r), delivered);
      const unanswered: Verdict = { outcome: "deferred", reply: `4.4.2 no reply for this recipient (${describe(target)})` };
      return { host: target.host, verdicts: complete(req.recipients, verdicts, unanswered) };
    } catch (err) {
      const e = err as SendError;
      if (e.command && TRANSACTION_COMMANDS.has(e.command) && e.responseCode) {
        // The host answered for this message: per recipient when it rejected every RCPT,
        // else one reply (MAIL FROM or DATA refused) for all of them.
        const verdicts = new Map<string, Verdict>();
        for (const r of e.rejectedErrors ?? []) setRejected(verdicts, r);
        const all = classifyError(err);
        return { host: target.host, verdicts: complete(req.recipients, verdicts, { ...all, reply: `${all.reply} (${describe(target)})` }) };
      }
      lastFailure =
        e.command === "STARTTLS" || (err as { code?: string }).code === "ETLS"
          ? // RFC 3463 (RFC 5248) X.7.10: encryption needed; the hop's policy will not send in clear.
            { outcome: "deferred", reply: `4.7.10 TLS required but not available: ${(err as Error).message} (${describe(target)})` }
          : classifyError(err, describe(target));
      // A 5yz greeting or EHLO still means "not this host"; only an answer about the message bounces.
      if (lastFailure.outcome !== "deferred") lastFailure = { outcome: "deferred", reply: lastFailure.reply };
    } finally {
      done();
    }
  }
  return { host: undefined, verdicts: complete(req.recipients, new Map(), lastFailure) };
}

interface SentInfo {
  accepted: (string | { address: string })[];
  rejectedErrors?: { recipient?: string; responseCode?: number; response?: string }[];
  response: string;
}

function transportOptions(target: Target, req: SendRequest) {
  const tls = req.hop?.tls ?? "may";
  return {
    host: target.address,
    port: target.port,
    name: req.heloName,
    secure: false,
    ignoreTLS: tls === "none",
    opportunisticTLS: tls === "may",
    requireTLS: tls === "encrypt" || tls === "verify",
    tls: { rejectUnauthorized: tls === "verify", ...(isIP(target.host) ? {} : { servername: target.host }) },
    ...(req.hop?.auth ? { auth: { user: req.hop.auth.username, pass: req.hop.auth.password } } : {}),
    connectionTimeout: req.connectTimeoutMs,
    greetingTimeout: req.connectTimeoutMs,
    // RFC 5321 §4.5.3.2.6: a client waits at least 10 minutes for the reply to the final dot.
    socketTimeout: 10 * 60_000,
  };
}

/** A new connection per transaction, closed after it. */
export const sendMessage: SmtpSender = (req) =>
  sendVia((target) => {
    const transport = nodemailer.createTransport(transportOptions(target, req));
    return { transport, done: () => transport.close() };
  }, req);

export interface PooledSender {
  send: SmtpSender;
  /** Closes every open connection (graceful stop). */
  close(): void;
  /** Open pools, for tests and metrics. */
  readonly pools: number;
}

/**
 * Connection reuse (Postfix's connection cache): one nodemailer pool per target host,
 * up to `maxConnections` connections each; a connection carries the next message for
 * the same host (RSET between transactions) and is closed after `idleTimeoutMs` unused.
 */
export function pooledSender(opts: { maxConnections: number; idleTimeoutMs: number; maxMessages?: number }): PooledSender {
  const pools = new Map<string, { transport: Transporter; users: number; idle?: NodeJS.Timeout }>();
  const key = (t: Target, r: SendRequest) =>
    JSON.stringify([t.address, t.port, t.host, r.heloName, r.hop?.tls ?? "may", r.hop?.auth?.username ?? null, r.hop?.auth?.password ?? null]);
  const transportFor: TransportFor = (target, req) => {
    const k = key(target, req);
    let p = pools.get(k);
    if (!p) {
      p = {
        transport: nodemailer.createTransport({
          ...transportOptions(target, req),
          pool: true,
          maxConnections: opts.maxConnections,
          // Postfix reuses a connection without a count limit (smtp_connection_reuse_count_limit = 0);
          // a new session every 100 messages was a connect, greeting and EHLO per 100.
          maxMessages: opts.maxMessages ?? 1000,
          idleTimeout: opts.idleTimeoutMs,
        }),
        users: 0,
      };
      pools.set(k, p);
    }
    const pool = p;
    pool.users++;
    if (pool.idle) clearTimeout(pool.idle);
    return {
      transport: pool.transport,
      done: () => {
        pool.users--;
        if (pool.users > 0) return;
        // The pool object itself goes when its connections have idled out.
        pool.idle = setTimeout(() => {
          if (pool.users > 0 || pools.get(k) !== pool) return;
          pools.delete(k);
          pool.transport.close();
        }, opts.idleTimeoutMs + 1000);
        pool.idle.unref();
      },
    };
  };
  return {
    send: (req) => sendVia(transportFor, req),
    close() {
      for (const p of pools.values()) {
        if (p.idle) clearTimeout(p.idle);
        p.transport.close();
      }
      pools.clear();
    },
    get pools() {
      return pools.size;
    },
  };
}

function describe(t: Target): string {
  return t.host === t.address ? `${t.address}:${t.port}` : `${t.host}[${t.address}]:${t.port}`;
}

function setRejected(verdicts: Map<string, Verdict>, err: { recipient?: string; responseCode?: number; response?: string }) {
  if (!err.recipient) return;
  verdicts.set(err.recipient, classifyError(err));
}

/** Every recipient gets a verdict; nodemailer echoes the addresses we gave it, trimmed. */
function complete(recipients: string[], found: Map<string, Verdict>, fallback: Verdict): Map<string, Verdict> {
  const byLower = new Map([...found].map(([k, v]) => [k.trim().toLowerCase(), v]));
  return new Map(recipients.map((r) => [r, found.get(r) ?? byLower.get(r.trim().toLowerCase()) ?? fallback]));
}
