export { startTelemetry, stopTelemetry } from "./sdk.js";
export { createLogger, type Logger } from "./logger.js";
export { startOpsServer, type ReadinessCheck, type OpsServerOptions } from "./ops-server.js";
export { metricNames, meter, counter, histogram, upDownCounter, deliveryLatency, atZero } from "./metrics.js";
export {
  tracer,
  injectTraceHeaders,
  extractTraceContext,
  context,
  trace,
  SpanKind,
  type Context,
  type Span,
} from "./propagation.js";
export { withSpan, linkFromHeaders, activeTraceparent, spanAttributes, type SpanOptions } from "./spans.js";
export { protocolSession, listenerMetricsAtZero, type Protocol, type ProtocolSession, type CommandOutcome } from "./protocol.js";
export { observeGauge, observeCounter, FailureTally, type Reading, type Source, type FailureEvent, type ObserveOptions } from "./observe.js";
export { replyStatus, recipientDomain, type ReplyStatus } from "./reply-status.js";
