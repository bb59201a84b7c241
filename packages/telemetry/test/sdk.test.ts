import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * startTelemetry in a process of its own (the built package, as a service loads it):
 * what it loads is what every service pays for in memory.
 */
function inProcess(script: string, env: Record<string, string> = {}, nodeFlags: string[] = []): any {
  const dist = join(__dirname, "..", "dist", "index.js");
  const out = execFileSync(process.execPath, [...nodeFlags, "-e", `const t = require(${JSON.stringify(dist)});\n${script}`], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

const loaded = `Object.keys(require.cache).map((f) => f.replace(/\\\\/g, "/"))`;

describe("startTelemetry", () => {
  const instrumentationsLoaded = (env: Record<string, string> = {}) => inProcess(`
      t.startTelemetry("probe", { http: false });
      const files = ${loaded};
      const has = (p) => files.some((f) => f.includes("/" + p + "/"));
      console.log(JSON.stringify({
        pg: has("@opentelemetry/instrumentation-pg"), ioredis: has("@opentelemetry/instrumentation-ioredis"),
        runtime: has("@opentelemetry/instrumentation-runtime-node"), http: has("@opentelemetry/instrumentation-http"),
        sdkNode: has("@opentelemetry/sdk-node"), configuration: has("@opentelemetry/configuration"),
        logsSdk: has("@opentelemetry/sdk-logs"), otlp: has("@opentelemetry/exporter-trace-otlp-http"),
      }));
    `, env);

  it("loads only the runtime instrumentation in a service without an HTTP API, and no SDK bundle", () => {
    expect(instrumentationsLoaded()).toEqual({ pg: false, ioredis: false, runtime: true, http: false, sdkNode: false, configuration: false, logsSdk: false, otlp: false });
  });

  it("instruments every PostgreSQL statement and Redis command only with CORREO_OTEL_DB=on", () => {
    expect(instrumentationsLoaded({ CORREO_OTEL_DB: "on" })).toMatchObject({ pg: true, ioredis: true, runtime: true });
    expect(instrumentationsLoaded({ CORREO_OTEL_DB: "off" })).toMatchObject({ pg: false, ioredis: false });
  });

  it("without an OTLP endpoint records no spans but still gives them trace ids for logs and traceparent", () => {
    const facts = inProcess(`
      t.startTelemetry("probe", { http: false });
      const span = t.tracer().startSpan("work");
      const ctx = t.trace.setSpan(t.context.active(), span);
      console.log(JSON.stringify({ recording: span.isRecording(), traceId: span.spanContext().traceId, headers: t.injectTraceHeaders(ctx) }));
    `);
    expect(facts.recording).toBe(false);
    expect(facts.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(facts.traceId).not.toBe("0".repeat(32));
    expect(facts.headers.traceparent).toBe(`00-${facts.traceId}-${facts.headers.traceparent.split("-")[2]}-00`);
  });

  it("with an OTLP endpoint records spans and loads the exporter", () => {
    const facts = inProcess(
      `
      t.startTelemetry("probe");
      const span = t.tracer().startSpan("work");
      const files = ${loaded};
      console.log(JSON.stringify({ recording: span.isRecording(), sampled: span.spanContext().traceFlags,
        otlp: files.some((f) => f.includes("/@opentelemetry/exporter-trace-otlp-http/")),
        http: files.some((f) => f.includes("/@opentelemetry/instrumentation-http/")) }));
      span.end();
      process.exit(0);
    `,
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" },
    );
    expect(facts).toEqual({ recording: true, sampled: 1, otlp: true, http: true });
  });

  it("serves the runtime metrics the dashboards chart (event loop, heap, GC)", () => {
    const facts = inProcess(`
      t.startTelemetry("probe", { http: false });
      const { prometheusExporter } = require(${JSON.stringify(join(__dirname, "..", "dist", "sdk.js"))});
      globalThis.gc();
      setTimeout(async () => {
        const { resourceMetrics } = await prometheusExporter().collect();
        console.log(JSON.stringify(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name))));
        process.exit(0);
      }, 300);
    `, {}, ["--expose-gc"]);
    expect(facts).toEqual(expect.arrayContaining(["nodejs.eventloop.delay.p99", "nodejs.eventloop.utilization", "v8js.memory.heap.used", "v8js.gc.duration"]));
  });

  it("does nothing with OTEL_SDK_DISABLED=true", () => {
    const facts = inProcess(`t.startTelemetry("probe"); console.log(JSON.stringify({ traceId: t.tracer().startSpan("x").spanContext().traceId }));`, {
      OTEL_SDK_DISABLED: "true",
    });
    expect(facts).toEqual({ traceId: "0".repeat(32) });
  });
});
