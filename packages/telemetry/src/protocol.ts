import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Span } from "@opentelemetry/api";
import { atZero, counter, histogram, metricNames, upDownCounter } from "./metrics.js";
import { spanAttributes } from "./spans.js";
import { tracer } from "./propagation.js";

export type Protocol = "smtp" | "submission" | "pop3" | "imap" | "http";

/** Seconds; protocol commands range from a NOOP to a large FETCH or DATA. */
const commandBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const sessions = () => counter(metricNames.protocolSessions, "Protocol sessions opened, by protocol");
const activeSessions = () => upDownCounter(metricNames.protocolSessionsActive, "Protocol sessions open now, by protocol");
const authFailures = () => counter(metricNames.protocolAuthFailures, "Failed logins, by protocol");
const commands = () => counter(metricNames.protocolCommands, "Protocol commands received, by protocol and command");
const commandDuration = () =>
  histogram(metricNames.protocolCommandDuration, "Time to answer a protocol command, by protocol and command", "s", commandBuckets);

/**
 * A listener's session and login-failure counters at 0 from the start, with the labels
 * its sessions will have (see atZero). Commands are counted as they come: their names
 * are known only per protocol module.
 */
export function listenerMetricsAtZero(protocol: Protocol, sessionLabels: Record<string, string> = {}): void {
  atZero(sessions(), [{ protocol, ...sessionLabels }]);
  atZero(authFailures(), [{ protocol }]);
}

/** How a command ended, as the protocol said it: `ok`, or a refusal the client saw. */
export type CommandOutcome = "ok" | "error";

export interface ProtocolSession {
  /** The session's span (kind SERVER); command spans are its children. */
  readonly span: Span;
  /**
   * Runs one command inside a child span, counts it and records its latency. `fn`
   * returns the outcome to record (a tagged NO/BAD, -ERR or a 4xx/5xx reply is
   * `error`); a throw counts as `error` and is rethrown.
   */
  command<T>(name: string, fn: (span: Span) => Promise<T> | T, outcomeOf?: (result: T) => CommandOutcome): Promise<T>;
  /** A failed login (wrong password, unknown user, mechanism refused). */
  authFailed(mechanism?: string): void;
  /** Sets an attribute on the session span (e.g. the account once authenticated). */
  set(attributes: Attributes): void;
  /** Ends the session; idempotent. */
  close(): void;
}

/**
 * The shared instrumentation of a protocol listener (SMTP, POP3, IMAP): one span per
 * session, one child span per command, and the metrics of docs/observability.md —
 * sessions opened and open, auth failures, commands and their latency per protocol.
 * Command names are upper-cased and limited to what the caller passes (never a raw
 * client line), so label values stay bounded.
 */
export function protocolSession(
  protocol: Protocol,
  attributes: Attributes = {},
  /** Extra labels of the session metrics (e.g. SMTP's listener, POP3's tls); keep them few-valued. */
  sessionLabels: Record<string, string> = {},
): ProtocolSession {
  const labels = { protocol };
  const openedLabels = { protocol, ...sessionLabels };
  const span = tracer().startSpan(`${protocol} session`, {
    kind: SpanKind.SERVER,
    attributes: { [spanAttributes.protocol]: protocol, ...attributes },
  });
  const sessionContext = trace.setSpan(context.active(), span);
  sessions().add(1, openedLabels);
  activeSessions().add(1, openedLabels);
  let open = true;
  return {
    span,
    async command(name, fn, outcomeOf) {
      const command = name.toUpperCase();
      const started = performance.now();
      let outcome: CommandOutcome = "ok";
      return tracer().startActiveSpan(
        `${protocol} ${command}`,
        { kind: SpanKind.INTERNAL, attributes: { [spanAttributes.protocol]: protocol, [spanAttributes.command]: command } },
        sessionContext,
        async (child) => {
          try {
            const result = await fn(child);
            outcome = outcomeOf ? outcomeOf(result) : "ok";
            if (outcome === "error") child.setStatus({ code: SpanStatusCode.ERROR });
            return result;
          } catch (err) {
            outcome = "error";
            child.recordException(err as Error);
            child.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            throw err;
          } finally {
            child.end();
            commands().add(1, { protocol, command });
            commandDuration().record((performance.now() - started) / 1000, { protocol, command, outcome });
          }
        },
      );
    },
    authFailed(mechanism) {
      authFailures().add(1, labels);
      span.addEvent("auth failed", mechanism ? { mechanism } : {});
    },
    set(attrs) {
      span.setAttributes(attrs);
    },
    close() {
      if (!open) return;
      open = false;
      activeSessions().add(-1, openedLabels);
      span.end();
    },
  };
}
