import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { context, metrics, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { metricNames, protocolSession, withSpan } from "../src/index.js";

/** A reader that collects on demand, as the Prometheus exporter does on a scrape. */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new OnDemandReader();
const spans = new InMemorySpanExporter();

beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  // The async-hooks context manager too, as startTelemetry registers it in a service.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }));
});
afterAll(() => {
  metrics.disable();
  trace.disable();
  context.disable();
});
beforeEach(() => spans.reset());

async function collected(): Promise<Map<string, { attributes: Record<string, unknown>; value: unknown }[]>> {
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
  const out = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      out.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
    }
  }
  return out;
}

describe("protocolSession", () => {
  it("records sessions, open sessions, auth failures, commands and their latency under the documented names", async () => {
    const session = protocolSession("imap");
    await session.command("login", async () => "NO", (reply) => (reply === "NO" ? "error" : "ok"));
    session.authFailed("PLAIN");
    await session.command("noop", async () => "OK");
    let m = await collected();
    expect(m.get(metricNames.protocolSessions)).toEqual([{ attributes: { protocol: "imap" }, value: 1 }]);
    expect(m.get(metricNames.protocolSessionsActive)).toEqual([{ attributes: { protocol: "imap" }, value: 1 }]);
    expect(m.get(metricNames.protocolAuthFailures)).toEqual([{ attributes: { protocol: "imap" }, value: 1 }]);
    expect(m.get(metricNames.protocolCommands)).toEqual([
      { attributes: { protocol: "imap", command: "LOGIN" }, value: 1 },
      { attributes: { protocol: "imap", command: "NOOP" }, value: 1 },
    ]);
    const durations = m.get(metricNames.protocolCommandDuration)!;
    expect(durations.map((d) => d.attributes)).toEqual([
      { protocol: "imap", command: "LOGIN", outcome: "error" },
      { protocol: "imap", command: "NOOP", outcome: "ok" },
    ]);
    session.close();
    session.close();
    m = await collected();
    expect(m.get(metricNames.protocolSessionsActive)).toEqual([{ attributes: { protocol: "imap" }, value: 0 }]);
  });

  it("makes one session span with a child span per command, the failing one marked as an error", async () => {
    const session = protocolSession("pop3", { "client.address": "127.0.0.1" });
    await session.command("USER", () => "+OK");
    await expect(session.command("RETR", () => Promise.reject(new Error("no such message")))).rejects.toThrow("no such message");
    session.close();
    const finished = spans.getFinishedSpans();
    const root = finished.find((s) => s.name === "pop3 session")!;
    expect(root.attributes).toMatchObject({ "correo.protocol": "pop3", "client.address": "127.0.0.1" });
    const children = finished.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);
    expect(children.map((s) => [s.name, s.status.code])).toEqual([
      ["pop3 USER", 0],
      ["pop3 RETR", 2],
    ]);
  });
});

describe("withSpan", () => {
  it("makes the span active for what runs inside, and records a throw as an error", async () => {
    const inner = await withSpan("route message", { "correo.message.id": "m1" }, async (span) => {
      return withSpan("lookup", {}, async () => trace.getActiveSpan()!.spanContext().traceId === span.spanContext().traceId);
    });
    expect(inner).toBe(true);
    await expect(withSpan("fails", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const byName = new Map(spans.getFinishedSpans().map((s) => [s.name, s]));
    expect(byName.get("lookup")!.parentSpanContext?.spanId).toBe(byName.get("route message")!.spanContext().spanId);
    expect(byName.get("route message")!.attributes).toEqual({ "correo.message.id": "m1" });
    expect(byName.get("fails")!.status).toMatchObject({ code: 2, message: "boom" });
    expect(byName.get("fails")!.events.map((e) => e.name)).toEqual(["exception"]);
  });
});
