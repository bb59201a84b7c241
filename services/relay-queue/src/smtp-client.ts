import { isIP } from "node:net";
import nodemailer from "nodemailer";
import { classifyError, classifyReply, type Verdict } from "./classify.js";
import type { Target } from "./mx-resolver.js";

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

/**
 * One SMTP transaction for all recipients, with nodemailer's SMTP transport (never
 * hand-written SMTP). Opportunistic STARTTLS (RFC 3207), self-signed certificates
 * accepted for now: MX hosts rarely have certificates for their own names, and without
 * DANE/MTA-STS there is nothing to check against yet.
 */
export const sendMessage: SmtpSender = async (req) => {
  let lastFailure: Verdict = { outcome: "deferred", reply: "4.4.4 no host to try" };
  for (const target of req.targets) {
    const transport = nodemailer.createTransport({
      host: target.address,
      port: target.port,
      name: req.heloName,
      secure: false,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false, ...(isIP(target.host) ? {} : { servername: target.host }) },
      connectionTimeout: req.connectTimeoutMs,
      greetingTimeout: req.connectTimeoutMs,
      // RFC 5321 §4.5.3.2.6: a client waits at least 10 minutes for the reply to the final dot.
      socketTimeout: 10 * 60_000,
    });
    try {
      const info = await transport.sendMail({ envelope: { from: req.envelopeFrom, to: req.recipients }, raw: req.raw });
      const verdicts = new Map<string, Verdict>();
      for (const err of info.rejectedErrors ?? []) setRejected(verdicts, err);
      const delivered = classifyReply(Number(info.response.slice(0, 3)) || 250, `${info.response} (${describe(target)})`);
      for (const r of info.accepted) if (!verdicts.has(r)) verdicts.set(r, delivered);
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
      lastFailure = classifyError(err, describe(target));
      // A 5yz greeting or EHLO still means "not this host"; only an answer about the message bounces.
      if (lastFailure.outcome !== "deferred") lastFailure = { outcome: "deferred", reply: lastFailure.reply };
    } finally {
      transport.close();
    }
  }
  return { host: undefined, verdicts: complete(req.recipients, new Map(), lastFailure) };
};

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
