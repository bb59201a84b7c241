import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import type { Instrumentation } from "@opentelemetry/instrumentation";
import { RuntimeNodeInstrumentation } from "@opentelemetry/instrumentation-runtime-node";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { AlwaysOffSampler, BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { parseFlag } from "@correo/config";

let prometheus: PrometheusExporter | undefined;
let tracerProvider: TracerProvider | undefined;
let meterProvider: MeterProvider | undefined;
let instrumentations: Instrumentation[] = [];

export interface TelemetryOptions {
  /**
   * Instrument node:http (a SERVER span per request, `http_server_request_duration`).
   * Only services that serve an API need it: the ops server's probes and scrapes are
   * never traced, so for the others it would be code loaded for nothing.
   */
  http?: boolean;
}

/**
 * Starts OpenTelemetry for this process. Call it from the first module a service
 * loads (`instrument.ts`), before pg, ioredis or http are required, so that their
 * instrumentation can patch them. Metrics are served in Prometheus format by the ops
 * server (`/metrics`). Traces go to OTLP/HTTP, in batches, when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise spans are not recorded at all, but
 * every span still gets a real trace and span id, so logs carry trace ids and broker
 * messages carry the `traceparent` (see broker). OTEL_SDK_DISABLED=true turns it all off.
 *
 * The providers are put together here rather than with sdk-node's NodeSDK: that one
 * loads every exporter, propagator, the logs SDK and the declarative-configuration
 * parser in every process (about 250 modules) for the three pieces used here.
 */
export function startTelemetry(serviceName: string, opts: TelemetryOptions = {}, env: NodeJS.ProcessEnv = process.env): void {
  if (meterProvider || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return;
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const resource = resourceFromAttributes({ "service.name": `correo-${serviceName}`, "service.version": "0.1.0" });

  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );

  prometheus = new PrometheusExporter({ preventServerStart: true });
  meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);

  if (endpoint) {
    // Loaded only when traces leave the process: the OTLP exporter and its transformer
    // are a hundred modules of their own.
    const { OTLPTraceExporter } = load<typeof import("@opentelemetry/exporter-trace-otlp-http")>("@opentelemetry/exporter-trace-otlp-http");
    tracerProvider = new TracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), ...batchOptions(env) })],
    });
  } else {
    // Nothing would receive the spans: decide "not recorded" up front, which still
    // hands out valid ids (logs, traceparent) but skips attributes, events and timing.
    tracerProvider = new TracerProvider({ resource, sampler: new AlwaysOffSampler() });
  }
  trace.setGlobalTracerProvider(tracerProvider);

  // Made after the providers are global, so that their tracers and meters are the real ones.
  instrumentations = [
    ...(opts.http === false
      ? []
      : [
          new (load<typeof import("@opentelemetry/instrumentation-http")>("@opentelemetry/instrumentation-http").HttpInstrumentation)({
            // Probes and scrapes are not worth a trace each.
            ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? ""),
          }),
        ]),
    // Loaded only when asked for (CORREO_OTEL_DB=on): neither module is paid for otherwise.
    ...(dbInstrumentation(env)
      ? [
          new (load<typeof import("@opentelemetry/instrumentation-pg")>("@opentelemetry/instrumentation-pg").PgInstrumentation)({ requireParentSpan: true }),
          new (load<typeof import("@opentelemetry/instrumentation-ioredis")>("@opentelemetry/instrumentation-ioredis").IORedisInstrumentation)({ requireParentSpan: true }),
        ]
      : []),
    new RuntimeNodeInstrumentation(),
  ];
  // Their metric instruments are made on this call (the runtime instrumentation makes
  // none from its constructor): without it there were no event-loop, heap or GC metrics.
  for (const i of instrumentations) i.setMeterProvider(meterProvider);
}

/**
 * Whether every PostgreSQL statement and Redis command gets a span and a
 * `db_client_operation_duration` record (CORREO_OTEL_DB=on). Off by default: on the
 * hot path that work cost more CPU than the statements themselves (docs/performance.md,
 * "OpenTelemetry's CPU"); the services' own spans and metrics stay.
 */
export function dbInstrumentation(env: NodeJS.ProcessEnv = process.env): boolean {
  // Read as the config's flag reads it (the service validated it at start).
  return parseFlag(env.CORREO_OTEL_DB ?? "") === true;
}

/** `require` at the point of use, for modules that only some processes need. */
function load<T>(id: string): T {
  return require(id) as T;
}

/** The batch span processor's settings from the standard OTEL_BSP_* variables. */
function batchOptions(env: NodeJS.ProcessEnv) {
  const num = (name: string): number | undefined => {
    const v = Number(env[name]);
    return env[name] && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  return {
    scheduledDelayMillis: num("OTEL_BSP_SCHEDULE_DELAY"),
    exportTimeoutMillis: num("OTEL_BSP_EXPORT_TIMEOUT"),
    maxQueueSize: num("OTEL_BSP_MAX_QUEUE_SIZE"),
    maxExportBatchSize: num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
  };
}

/** Flushes pending spans; call on graceful stop. */
export async function stopTelemetry(): Promise<void> {
  for (const i of instrumentations) i.disable();
  instrumentations = [];
  await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()].map((p) => p?.catch(() => undefined)));
  tracerProvider = undefined;
  meterProvider = undefined;
}

/** The Prometheus exporter started by `startTelemetry`, if any. */
export function prometheusExporter(): PrometheusExporter | undefined {
  return prometheus;
}
