import { context, propagation, trace, SpanKind, type Context, type Span } from "@opentelemetry/api";

export { context, trace, SpanKind, type Context, type Span };

export function tracer() {
  return trace.getTracer("correo");
}

/** W3C trace context of the active span, for a broker message's headers. */
export function injectTraceHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context a broker message's headers carry (or the root context). */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (typeof v === "string") carrier[k] = v;
    else if (Buffer.isBuffer(v)) carrier[k] = v.toString();
  }
  return propagation.extract(context.active(), carrier);
}
