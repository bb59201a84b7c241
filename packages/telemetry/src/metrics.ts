import { metrics, type Attributes, type Counter, type Histogram, type Meter, type UpDownCounter } from "@opentelemetry/api";

/**
 * Metric names, defined once. Prometheus sees them with dots turned into underscores
 * and counters suffixed `_total` (e.g. `correo_messages_accepted_total`).
 */
export const metricNames = {
  messagesAccepted: "correo.messages.accepted",
  deliveriesRouted: "correo.deliveries.routed",
  deliveriesCompleted: "correo.deliveries.completed",
  deliveryLatency: "correo.delivery.latency",
  brokerPublished: "correo.broker.published",
  brokerConsumed: "correo.broker.consumed",
  brokerDeadLettered: "correo.broker.dead_lettered",
  outboxRepublished: "correo.outbox.republished",
  outboxLeftForSweeper: "correo.outbox.left_for_sweeper",
  protocolSessions: "correo.protocol.sessions",
  protocolAuthFailures: "correo.protocol.auth_failures",
  protocolCommands: "correo.protocol.commands",
  // Issue 3: SMTP replies that refused a command, by listener, stage and reply code.
  smtpRejections: "correo.smtp.rejections",
  // Issue 7: protocol helpers (protocol.ts) and gauges observed from the truth (observe.ts).
  protocolSessionsActive: "correo.protocol.sessions.active",
  protocolCommandDuration: "correo.protocol.command.duration",
  deliveriesPending: "correo.deliveries.pending",
  deliveryFailures: "correo.delivery.failures",
  outboxPending: "correo.outbox.pending",
  relayScheduleSize: "correo.relay.schedule.size",
  relayScheduleOverdue: "correo.relay.schedule.overdue",
  queueDepth: "correo.queue.depth",
  queueConsumers: "correo.queue.consumers",
  // Issue 11: the service's PostgreSQL pool, read at scrape time (the pg instrumentation is off by default).
  dbPoolConnections: "correo.db.pool.connections",
  // Issue 5: relay-queue's DSNs, destination throttling and parking.
  dsnSent: "correo.dsn.sent",
  relayThrottled: "correo.relay.throttled",
  relayDestinationsParked: "correo.relay.destinations_parked",
  // Issue 15: POSTs to inbound routes' endpoints, by outcome (delivered, retry, fallback).
  inboundPosts: "correo.inbound.posts",
  // Issue 14: spam scoring by rspamd at the MX (packages/rspamd, services/submission/src/smtp/spam-check.ts).
  rspamdChecks: "correo.rspamd.checks",
  rspamdFailures: "correo.rspamd.failures",
  rspamdDuration: "correo.rspamd.duration",
  // Issue 14: the MX's authentication checks (by method and result) and its verdicts.
  inboundAuthResults: "correo.inbound.auth_results",
  inboundAuthVerdicts: "correo.inbound.auth_verdicts",
  // Issue 14: forwarding — SRS envelope senders (routing), SRS bounces at the MX, ARC seals (relay-queue).
  srsRewrites: "correo.srs.rewrites",
  srsBounces: "correo.srs.bounces",
  arcSeals: "correo.arc.seals",
  // Issue 15: ARF complaints read by routing at COMPLAINTS_ADDRESS, by outcome.
  complaintsReceived: "correo.complaints.received",
  // Issue 15: webhooks (relay-queue's worker).
  webhookEventsDispatched: "correo.webhook.events.dispatched",
  webhookAttempts: "correo.webhook.attempts",
  webhookAttemptDuration: "correo.webhook.attempt.duration",
  webhookEndpointsDisabled: "correo.webhook.endpoints.disabled",
} as const;

export function meter(): Meter {
  return metrics.getMeter("correo");
}

const counters = new Map<string, Counter>();
const upDownCounters = new Map<string, UpDownCounter>();

/** A counter that goes down too (e.g. sessions open now). */
export function upDownCounter(name: string, description: string): UpDownCounter {
  let c = upDownCounters.get(name);
  if (!c) {
    c = meter().createUpDownCounter(name, { description });
    upDownCounters.set(name, c);
  }
  return c;
}
const histograms = new Map<string, Histogram>();

export function counter(name: string, description: string): Counter {
  let c = counters.get(name);
  if (!c) {
    c = meter().createCounter(name, { description });
    counters.set(name, c);
  }
  return c;
}

export function histogram(name: string, description: string, unit = "s", boundaries?: number[]): Histogram {
  let h = histograms.get(name);
  if (!h) {
    h = meter().createHistogram(name, {
      description,
      unit,
      ...(boundaries ? { advice: { explicitBucketBoundaries: boundaries } } : {}),
    });
    histograms.set(name, h);
  }
  return h;
}

/**
 * Exports `c` at 0 for each of its known label sets from the start, so that a healthy
 * system's failure panels show 0 rather than "No data" (a Prometheus series is missing
 * until its first sample). Call it once the telemetry SDK runs: in a start function.
 * Histograms are not zeroed: OpenTelemetry has no way to export an empty one.
 */
export function atZero(c: Counter, labelSets: Attributes[] = [{}]): void {
  for (const labels of labelSets) c.add(0, labels);
}

/** Time from accept to the mailbox or the remote 250, labelled by route; shared by mailbox and relay-queue. */
export function deliveryLatency(): Histogram {
  return histogram(metricNames.deliveryLatency, "Time from accept to mailbox or remote 250", "s", [
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400,
  ]);
}
