import type { SMTPServerSession } from "smtp-server";
import { decideSpam, RSPAMD_ACTIONS, RspamdClient, type CheckEnvelope, type FailureReason, type RspamdAction } from "@correo/rspamd";
import { atZero, counter, histogram, metricNames, type Logger } from "@correo/telemetry";
import { prependHeaders, removeHeaderFields } from "../message-headers.js";
import { spamVerdict } from "./policy/spam.js";
import type { Verdict } from "./verdict.js";

/** The settings of packages/config's rspamdSpec (RSPAMD_URL, RSPAMD_TIMEOUT, RSPAMD_FAIL_CLOSED, RSPAMD_PASSWORD). */
export interface RspamdSettings {
  rspamdUrl: string | undefined;
  rspamdTimeout: number;
  rspamdFailClosed: boolean;
  rspamdPassword: string | undefined;
}

export interface SpamCheckResult {
  /** accept, or the reply to refuse the message with (550 5.7.1 / 451 4.7.1). */
  verdict: Verdict;
  /** The message to store when accepted: incoming X-Spam-* removed, Correo's added, Subject rewritten. */
  message: Buffer;
  /** Deliver to the recipients' Junk folder. */
  junk: boolean;
  /** rspamd's action, or "unchecked" when it gave no usable answer. */
  action: RspamdAction | "unchecked";
  score?: number | undefined;
}

const REASONS: FailureReason[] = ["timeout", "connect", "status", "answer"];
const checks = () => counter(metricNames.rspamdChecks, "Messages rspamd scored at the MX, by action");
const failures = () => counter(metricNames.rspamdFailures, "rspamd checks without a usable answer, by reason and fail-open/closed policy");
const duration = () => histogram(metricNames.rspamdDuration, "Time to rspamd's answer at the end of DATA", "s", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]);

/**
 * The MX's spam check at the end of DATA (issue 14): asks rspamd about the message as
 * received, and turns its answer into a verdict and the message to store. Off (no
 * instance) while RSPAMD_URL is unset. One per process: it keeps rspamd's connections alive.
 */
export class SpamCheck {
  private readonly client: RspamdClient;
  private readonly policy: string;

  static fromConfig(settings: RspamdSettings, log: Logger): SpamCheck | undefined {
    if (!settings.rspamdUrl) return undefined;
    return new SpamCheck(settings as RspamdSettings & { rspamdUrl: string }, log);
  }

  constructor(
    private readonly settings: RspamdSettings & { rspamdUrl: string },
    private readonly log: Logger,
  ) {
    this.client = new RspamdClient({ url: settings.rspamdUrl, timeoutMs: settings.rspamdTimeout, password: settings.rspamdPassword });
    this.policy = settings.rspamdFailClosed ? "fail-closed" : "fail-open";
    atZero(checks(), RSPAMD_ACTIONS.map((action) => ({ action })));
    atZero(failures(), REASONS.map((reason) => ({ reason, policy: this.policy })));
  }

  /** The envelope rspamd is told about: what smtp-server knows of the session. */
  static envelopeOf(session: SMTPServerSession, queueId: string): CheckEnvelope {
    const user = session.user as { address?: string } | undefined;
    return {
      ip: session.remoteAddress,
      helo: session.hostNameAppearsAs || undefined,
      // smtp-server writes "[1.2.3.4]" when the reverse lookup found no name.
      hostname: session.clientHostname && !session.clientHostname.startsWith("[") ? session.clientHostname : undefined,
      from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
      rcpt: session.envelope.rcptTo.map((r) => r.address),
      queueId,
      user: user?.address,
    };
  }

  /** Checks one message; never throws (rspamd's absence is a result, fail open or closed). */
  async check(message: Buffer, session: SMTPServerSession, queueId: string): Promise<SpamCheckResult> {
    const result = await this.client.check(SpamCheck.envelopeOf(session, queueId), message);
    duration().record(result.durationMs / 1000, { outcome: result.outcome });
    const failClosed = this.settings.rspamdFailClosed;
    if (result.outcome !== "answer") {
      const reason: FailureReason = result.outcome === "timeout" ? "timeout" : result.reason;
      failures().add(1, { reason, policy: this.policy });
      this.log.warn(
        { session: session.id, messageId: queueId, reason, detail: result.detail, policy: this.policy },
        failClosed ? "rspamd gave no usable answer: message deferred (RSPAMD_FAIL_CLOSED)" : "rspamd gave no usable answer: message accepted unscored",
      );
    } else {
      checks().add(1, { action: result.answer.action });
    }
    const decision = decideSpam(result.outcome === "answer" ? result.answer : result.outcome, { failClosed });
    const verdict = spamVerdict(decision);
    if (verdict.verdict.verdict !== "accept") {
      this.log.info({ session: session.id, messageId: queueId, action: decision.action, score: decision.score }, "message refused by the spam check");
    }
    const edited = prependHeaders(
      removeHeaderFields(message, verdict.removeHeaders),
      verdict.addHeaders.map((h) => `${h.name}: ${h.value}`),
    );
    return { verdict: verdict.verdict, message: edited, junk: verdict.junk, action: decision.action, score: decision.score };
  }

  close(): void {
    this.client.close();
  }
}
