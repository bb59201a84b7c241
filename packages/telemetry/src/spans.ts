import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Link, type Span } from "@opentelemetry/api";
import { extractTraceContext, tracer } from "./propagation.js";

/**
 * Span attribute names an operator searches by, defined once. Where OpenTelemetry's
 * semantic conventions name the thing (`server.address`), that name is used.
 */
export const spanAttributes = {
  messageId: "correo.message.id",
  deliveryId: "correo.delivery.id",
  recipientDomain: "correo.recipient.domain",
  route: "correo.route",
  outcome: "correo.outcome",
  /** The next hop (MX or transport host) of a relay attempt. */
  remoteHost: "server.address",
  remotePort: "server.port",
  /** The SMTP reply code (RFC 5321 §4.2) and enhanced status (RFC 3463) seen or sent. */
  replyCode: "smtp.reply.code",
  enhancedStatus: "smtp.reply.enhanced_status",
  protocol: "correo.protocol",
  command: "correo.command",
  account: "correo.account",
} as const;

export interface SpanOptions {
  kind?: SpanKind;
  /** Other traces this work follows from, e.g. the attempt a retry repeats. */
  links?: Link[];
}

/**
 * Runs `fn` inside a new active span: child spans, log lines and published broker
 * events join it. A throw marks the span as an error (and is rethrown); the span ends
 * when `fn` settles.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  opts: SpanOptions = {},
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes, links: opts.links ?? [] }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * A link to the trace that broker headers (or a stored `traceparent`) carry — for work
 * that repeats or continues other work without being its child, such as a retry
 * published by the schedule.
 */
export function linkFromHeaders(headers: Record<string, unknown> | undefined): Link[] {
  const spanContext = trace.getSpanContext(extractTraceContext(headers));
  return spanContext ? [{ context: spanContext }] : [];
}

/** The `traceparent` of the active span, to store beside work that will be picked up later. */
export function activeTraceparent(): string | undefined {
  const sc = trace.getSpan(context.active())?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}
