import { NodeSDK, tracing } from "@opentelemetry/sdk-node";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { RuntimeNodeInstrumentation } from "@opentelemetry/instrumentation-runtime-node";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

let prometheus: PrometheusExporter | undefined;

const dropSpans: tracing.SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};
let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry for this process. Call it from the first module a service
 * loads (`instrument.ts`), before pg, ioredis or http are required, so that their
 * instrumentation can patch them. Traces go to OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; metrics are served in Prometheus format by the
 * ops server (`/metrics`). Broker messages carry trace context themselves (see broker).
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  if (sdk) return;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  // The SDK would otherwise default to exporting traces and logs to localhost:4318.
  env.OTEL_TRACES_EXPORTER ??= endpoint ? "otlp" : "none";
  env.OTEL_LOGS_EXPORTER ??= "none";
  prometheus = new PrometheusExporter({ preventServerStart: true });
  sdk = new NodeSDK({
    serviceName: `correo-${serviceName}`,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: `correo-${serviceName}`,
      [ATTR_SERVICE_VERSION]: "0.1.0",
    }),
    autoDetectResources: false,
    metricReaders: [prometheus],
    // Without an exporter, spans are still made (and dropped) so that logs carry real trace ids.
    spanProcessors: [endpoint ? new tracing.BatchSpanProcessor(new OTLPTraceExporter()) : dropSpans],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ""),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new RuntimeNodeInstrumentation(),
    ],
  });
  sdk.start();
}

/** Flushes pending spans; call on graceful stop. */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => undefined);
  sdk = undefined;
}

/** The Prometheus exporter started by `startTelemetry`, if any. */
export function prometheusExporter(): PrometheusExporter | undefined {
  return prometheus;
}
