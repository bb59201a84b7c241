import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import type { Pool } from "@correo/db";
import { authenticate, canSendAs, parseAddress, uncachedDirectory, type AuthCache, type DirectoryLookups } from "@correo/directory";
import { acceptMessage, type Clock, type Outbox, type Submission } from "@correo/spool";
import { atZero, counter, metricNames, type Logger } from "@correo/telemetry";
import type { LoginThrottle } from "@correo/login-throttle";
import type { SmtpCounters } from "./limits.js";
import { headerValue, prependHeaders, readHeaderSection, rfc5322Date } from "../message-headers.js";
import { decideAuth } from "./policy/auth.js";
import { inspectMessage, MAX_RECEIVED_HEADERS } from "./policy/data.js";
import { decideInboundSender, decideSubmissionSender, senderSyntax } from "./policy/mail.js";
import { decideRecipient, precheckRecipient } from "./policy/rcpt.js";
import { decideSrsRecipient } from "./policy/srs-rcpt.js";
import type { SrsOptions } from "@correo/srs";
import { receivedHeader } from "../received.js";
import { replies, replyError, type Reply } from "./replies.js";
import { checkInboundTrust, inboundTrustMetricsAtZero, type InboundTrust } from "./inbound-trust.js";
import { trustVerdict } from "./policy/trust.js";
import type { SpamCheck } from "./spam-check.js";
import type { Verdict } from "./verdict.js";

/** Which way in: MX (other servers, no AUTH) or submission (clients, AUTH required; 587 or 465). */
export type ListenerKind = "mx" | "submission" | "submissions";

export interface SmtpLimits {
  maxMessageSize: number;
  maxRecipients: number;
  maxLineLength: number;
  idleTimeoutMs: number;
  sessionTimeoutMs: number;
  /** MX only: milliseconds before the greeting; a client that talks first is refused (smtp-server's early-talker check). */
  mxGreetPauseMs: number;
  maxUnauthenticatedCommands: number;
  maxConnectionsPerIp: number;
  authMaxFailuresPerSession: number;
  messagesPerHour: number;
}

export interface TransactionDeps {
  pool: Pool;
  outbox: Outbox;
  clock: Clock;
  counters: SmtpCounters;
  /** Failed logins per client address and per account, shared with IMAP, POP3 and HTTP. */
  logins: LoginThrottle;
  /** Logins verified a moment ago (AUTH_CACHE_TTL), shared by the three SMTP listeners of this process. */
  authCache?: AuthCache;
  hostname: string;
  redriveAfterMs: number;
  limits: SmtpLimits;
  /** POSTMASTER_ADDRESS: where postmaster mail goes (RFC 5321 §4.5.1); unset: postmaster@ the first hosted domain. */
  postmaster?: string | undefined;
  /** The directory's answers (DirectoryCache in the service); unset: the database every time. */
  directory?: DirectoryLookups | undefined;
  /** MX only: SPF, DKIM, DMARC, ARC and iprev at the end of DATA (VERIFY_INBOUND=on); unset: none. */
  trust?: InboundTrust | undefined;
  /** MX only: rspamd's verdict at the end of DATA (RSPAMD_URL); unset: no spam scoring. */
  spamCheck?: SpamCheck | undefined;
  /** SRS_SECRETS / SRS_DOMAIN: bounces to our SRS addresses are taken back (packages/srs); undefined: SRS off. */
  srs?: SrsOptions | undefined;
  log: Logger;
}

/** Who authenticated a submission session (session.user). */
export interface SessionUser {
  accountId: number;
  address: string;
}

type Done = (err?: Error | null) => void;

const rejections = () => counter(metricNames.smtpRejections, "SMTP commands refused, by stage and reply code");
const authFailures = () => counter(metricNames.protocolAuthFailures, "Failed authentications, by protocol");
const accepted = () => counter(metricNames.messagesAccepted, "Messages accepted, by way in");
const srsBounces = () => counter(metricNames.srsBounces, "RCPT TO an SRS address of ours, by outcome");

/**
 * The stages of one SMTP transaction (Haraka's hooks): each asks a pure policy for a
 * verdict and turns it into the reply. The I/O (directory, Redis counters, the
 * durable accept) happens here and nowhere in the policies.
 */
export class SmtpTransaction {
  private readonly sessionAuthFailures = new Map<string, number>();
  /** Per session: SRS recipients accepted at RCPT and the address each is delivered to. */
  private readonly srsRoutes = new Map<string, Map<string, string>>();

  private readonly directory: DirectoryLookups;

  constructor(
    private readonly kind: ListenerKind,
    private readonly deps: TransactionDeps,
  ) {
    this.directory = deps.directory ?? uncachedDirectory(deps.pool);
    atZero(accepted(), [{ way: this.way }]);
    if (kind === "mx" && deps.trust) inboundTrustMetricsAtZero();
    // SRS bounces are taken at the MX only; their outcomes start at zero (as the ARC seals do).
    if (kind === "mx") atZero(srsBounces(), ["accepted", "forged", "expired", "malformed"].map((outcome) => ({ outcome })));
  }

  private get way(): string {
    return this.kind === "mx" ? "smtp-mx" : "smtp-submission";
  }

  private finish(stage: string, verdict: Verdict, done: Done): void {
    if (verdict.verdict === "accept") return done();
    this.refuse(stage, verdict.reply, done);
  }

  private refuse(stage: string, reply: Reply, done: Done): void {
    rejections().add(1, { stage, code: reply.code, listener: this.kind });
    done(replyError(reply));
  }

  async onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    done: (err: Error | null | undefined, response?: { user?: SessionUser }) => void,
  ): Promise<void> {
    const { logins, limits, pool } = this.deps;
    const username = auth.username ?? "";
    try {
      const outcome = await logins.attempt(session.remoteAddress, username, () =>
        authenticate(pool, username, auth.password ?? "", { cache: this.deps.authCache }),
      );
      if (outcome.outcome === "ok") {
        this.sessionAuthFailures.delete(session.id);
        return done(null, { user: { accountId: outcome.account.id, address: outcome.account.address } });
      }
      let failures = this.sessionAuthFailures.get(session.id) ?? 0;
      if (outcome.outcome === "failed") {
        authFailures().add(1, { protocol: "smtp" });
        this.sessionAuthFailures.set(session.id, ++failures);
        this.deps.log.info({ session: session.id, ip: session.remoteAddress, failures, delayMs: outcome.delayMs }, "SMTP AUTH failed");
      } else {
        this.deps.log.info({ session: session.id, ip: session.remoteAddress, retryAfterMs: outcome.retryAfterMs }, "SMTP AUTH refused: address throttled");
      }
      this.finish("auth", decideAuth(outcome, failures, limits.authMaxFailuresPerSession), done);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "SMTP AUTH could not be checked");
      this.refuse("auth", replies.authUnavailable(), done);
    }
  }

  async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, done: Done): Promise<void> {
    const smtpUtf8 = session.envelope.smtpUtf8 === true;
    try {
      if (this.kind === "mx") return this.finish("mail", decideInboundSender(address.address, smtpUtf8), done);
      const syntax = senderSyntax(address.address, smtpUtf8);
      if (syntax.verdict !== "accept") return this.finish("mail", syntax, done);
      const user = session.user as SessionUser;
      const owned = address.address !== "" && (await canSendAs(this.deps.pool, user.accountId, address.address));
      const { messagesPerHour } = this.deps.limits;
      const sender = decideSubmissionSender(address.address, { owned, sentThisHour: 0, messagesPerHour });
      if (sender.verdict !== "accept") return this.finish("mail", sender, done);
      // The message is taken from the hourly budget now, over all copies, and given back
      // if the transaction ends without it accepted.
      const sentThisHour = await this.deps.counters.takeMessage(session.id, user.accountId, messagesPerHour);
      this.finish("mail", decideSubmissionSender(address.address, { owned, sentThisHour, messagesPerHour }), done);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "MAIL FROM could not be checked");
      this.refuse("mail", replies.temporaryLookupFailure(), done);
    }
  }

  async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, done: Done): Promise<void> {
    const ctx = {
      authenticated: this.kind !== "mx" && session.user !== undefined,
      accepted: session.envelope.rcptTo.length,
      maxRecipients: this.deps.limits.maxRecipients,
      smtpUtf8: session.envelope.smtpUtf8 === true,
    };
    // A bounce to one of our SRS addresses: its hash and age decide, not the directory.
    const srs = decideSrsRecipient(address.address, this.deps.srs, this.deps.clock.now());
    const pre = precheckRecipient(address.address, ctx);
    // An SRS address may outgrow the 64-octet local part, which RFC 5321 §4.5.3.1 asks
    // servers not to enforce where they can: its hash vouches for it, not the syntax check.
    const syntaxOnly = pre.verdict === "reject" && pre.reply.code === 501;
    if (pre.verdict !== "accept" && !(srs && syntaxOnly)) return this.finish("rcpt", pre, done);
    if (srs) {
      srsBounces().add(1, { outcome: srs.outcome });
      if (srs.routeTo) this.srsRoutes.set(session.id, (this.srsRoutes.get(session.id) ?? new Map<string, string>()).set(address.address, srs.routeTo));
      return this.finish("rcpt", srs.verdict, done);
    }
    try {
      // RFC 5321 §4.5.1: <Postmaster> and postmaster@ every hosted domain are always accepted.
      const status = await this.directory.resolveRecipient(address.address, { postmaster: this.deps.postmaster });
      this.finish("rcpt", decideRecipient(address.address, status, ctx), done);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "RCPT TO could not be checked");
      this.refuse("rcpt", replies.temporaryLookupFailure(), done);
    }
  }

  onData(stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      // Past the limit the rest is read and dropped: the reply is 552 whatever follows.
      if (stream.sizeExceeded) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    stream.once("error", () => undefined);
    stream.once("end", () => {
      if (stream.sizeExceeded) return this.refuse("data", replies.messageTooBig(this.deps.limits.maxMessageSize), done);
      this.store(Buffer.concat(chunks, size), session).then(
        (id) => done(null, `${replies.accepted(id).enhanced} ${replies.accepted(id).text}`),
        (reply: Reply) => this.refuse("data", reply, done),
      );
    });
  }

  /** Checks and durably accepts one message; resolves with its id or rejects with the reply. */
  private async store(received: Buffer, session: SMTPServerSession): Promise<string> {
    const { limits, clock, hostname } = this.deps;
    const inspected = inspectMessage(received, { maxLineLength: limits.maxLineLength, maxReceived: MAX_RECEIVED_HEADERS });
    if (inspected.verdict.verdict !== "accept") throw inspected.verdict.reply;
    let headers = inspected.headers;
    const now = clock.now();
    const srsRoutes = this.srsRoutes.get(session.id);
    const recipients = session.envelope.rcptTo.map((r) => srsRoutes?.get(r.address) ?? r.address);
    // One id for the message: the Received: line names the spool's message id ("queued as").
    const messageId = crypto.randomUUID();
    const added: string[] = [
      receivedHeader({
        helo: session.hostNameAppearsAs || "unknown",
        clientAddress: session.remoteAddress,
        clientHostname: session.clientHostname && !session.clientHostname.startsWith("[") ? session.clientHostname : undefined,
        hostname,
        protocol: session.transmissionType,
        id: messageId,
        recipient: recipients.length === 1 ? recipients[0] : undefined,
        tls: session.tlsOptions ? { protocol: session.tlsOptions.version, cipher: session.tlsOptions.name } : undefined,
        date: now,
      }),
    ];
    let headerMessageId = headerValue(headers, "Message-ID");
    // RFC 6409 §8.2, §8.3: a submission server may add Message-ID and Date when missing.
    if (this.kind !== "mx") {
      if (!headerMessageId) {
        headerMessageId = `<${crypto.randomUUID()}@${hostname}>`;
        added.push(`Message-ID: ${headerMessageId}`);
      }
      if (!headerValue(headers, "Date")) added.push(`Date: ${rfc5322Date(now)}`);
    }
    const authenticated = await this.authenticateInbound(received, session, recipients, messageId);
    const { message, inboundAuth } = await this.scoreSpam(authenticated, session, messageId);
    // rspamd may have rewritten the Subject: the stored one is the one delivered.
    if (message !== authenticated.message) headers = readHeaderSection(message);
    const raw = prependHeaders(message, added);
    const user = session.user as SessionUser | undefined;
    const dsn = session.envelope.dsn;
    const submission: Submission = {
      messageId,
      raw,
      envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
      recipients,
      source: "smtp",
      accountId: this.kind === "mx" ? undefined : user?.accountId,
      // Issue 15: an authenticated submission is checked against, and feeds, the list of
      // its sender's domain (the account's, for the null sender); MX mail has none.
      sendingDomain: this.kind === "mx" || !user ? undefined : (parseAddress(session.envelope.mailFrom ? session.envelope.mailFrom.address : "")?.domain ?? parseAddress(user.address)?.domain),
      headerMessageId: headerMessageId?.slice(0, 998),
      subject: headerValue(headers, "Subject")?.slice(0, 998),
      dsn: dsn && (dsn.ret || dsn.envid) ? { ret: (dsn.ret as "FULL" | "HDRS" | null) ?? undefined, envid: dsn.envid ?? undefined } : undefined,
      recipientParams: Object.fromEntries(
        session.envelope.rcptTo
          .filter((r) => r.dsn && (r.dsn.notify || r.dsn.orcpt))
          .map((r) => [r.address, { notify: r.dsn!.notify as ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[] | undefined, orcpt: r.dsn!.orcpt }]),
      ),
      inboundAuth,
    };
    // An SRS recipient is delivered to the address it encodes; RFC 3461 §4.2: ORCPT keeps the one the client named.
    for (const [srsAddress, routeTo] of srsRoutes ?? []) {
      if (!session.envelope.rcptTo.some((r) => r.address === srsAddress)) continue;
      const given = submission.recipientParams![srsAddress];
      delete submission.recipientParams![srsAddress];
      submission.recipientParams![routeTo] = { ...given, orcpt: given?.orcpt ?? `rfc822;${srsAddress}` };
    }
    let id: string;
    try {
      id = (await acceptMessage(this.deps.pool, this.deps.outbox, submission, { clock, redriveAfterMs: this.deps.redriveAfterMs })).messageId;
    } catch (err) {
      this.deps.log.error({ err, session: session.id }, "could not store the message");
      throw replies.notStored();
    }
    accepted().add(1, { way: this.way });
    if (user && this.kind !== "mx") this.deps.counters.messageAccepted(session.id);
    this.deps.log.info({ session: session.id, messageId: id, recipients: recipients.length, size: raw.length, listener: this.kind }, "message accepted");
    return id;
  }

  /**
   * MX only (issue 14): forged Authentication-Results out, ours in, and the verdict —
   * refused (550 5.7.1) or deferred (451 4.7.0) before anything is stored, junk filed
   * by routing. Submission listeners and VERIFY_INBOUND=off pass the message through.
   */
  private async authenticateInbound(
    received: Buffer,
    session: SMTPServerSession,
    recipients: string[],
    messageId: string,
  ): Promise<{ message: Buffer; inboundAuth?: Submission["inboundAuth"] }> {
    const trust = this.deps.trust;
    if (this.kind !== "mx" || !trust) return { message: received };
    let outcome;
    try {
      outcome = await checkInboundTrust(this.directory, trust, received, {
        ip: session.remoteAddress,
        helo: session.hostNameAppearsAs || "",
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        recipients,
      });
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, session: session.id }, "inbound authentication could not be checked");
      throw replies.temporaryLookupFailure();
    }
    const { decision, summary } = outcome;
    this.deps.log.info({ session: session.id, messageId, verdict: decision.action, basis: decision.basis, mode: outcome.mode, forgedRemoved: outcome.forgedRemoved, auth: summary }, "inbound authentication");
    const verdict = trustVerdict(decision);
    if (verdict.verdict !== "accept") throw verdict.reply;
    return { message: outcome.raw, inboundAuth: { summary, quarantine: decision.action === "junk" } };
  }

  /**
   * MX only (issue 14 item 4): rspamd's verdict on the authenticated message — refused
   * (550 5.7.1) or deferred (451 4.7.1) before anything is stored, junk filed like a
   * DMARC quarantine, X-Spam-* headers set. Off while RSPAMD_URL is unset.
   */
  private async scoreSpam(
    authenticated: { message: Buffer; inboundAuth?: Submission["inboundAuth"] },
    session: SMTPServerSession,
    messageId: string,
  ): Promise<{ message: Buffer; inboundAuth?: Submission["inboundAuth"] }> {
    const spamCheck = this.deps.spamCheck;
    if (this.kind !== "mx" || !spamCheck) return authenticated;
    const spam = await spamCheck.check(authenticated.message, session, messageId);
    if (spam.verdict.verdict !== "accept") throw spam.verdict.reply;
    const scored = spam.score === undefined ? `spam=${spam.action}` : `spam=${spam.action} (score ${spam.score})`;
    const before = authenticated.inboundAuth;
    return {
      message: spam.message,
      inboundAuth: {
        summary: before ? `${before.summary}; ${scored}` : scored,
        quarantine: (before?.quarantine ?? false) || spam.junk,
      },
    };
  }

  forget(session: SMTPServerSession): void {
    this.sessionAuthFailures.delete(session.id);
    this.srsRoutes.delete(session.id);
    // A message taken at MAIL and never accepted goes back to the account's hourly budget.
    this.deps.counters.returnMessage(session.id).catch((err: Error) => this.deps.log.warn({ err: err.message }, "message rate budget not given back"));
  }
}
