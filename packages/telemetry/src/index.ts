export { startTelemetry, stopTelemetry } from "./sdk.js";
export { createLogger, type Logger } from "./logger.js";
export { startOpsServer, type ReadinessCheck, type OpsServerOptions } from "./ops-server.js";
export { metricNames, meter, counter, histogram, deliveryLatency } from "./metrics.js";
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
