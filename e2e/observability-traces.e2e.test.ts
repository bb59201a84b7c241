import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "@correo/testkit";
import { startCorreo, type Correo } from "./harness.js";
import { startOtlpReceiver, type ReceivedSpan } from "./observability/otlp-receiver.js";
import { send, startRemoteMx } from "./observability/traffic.js";

/**
 * One trace per message: the services export their spans over OTLP/HTTP to a receiver
 * in this test, and the spans of one submitted message — for a local and a remote
 * recipient — form a single tree through submission, routing, mailbox (and retrieval's
 * mailbox.changed) and relay-queue.
 */
let correo: Correo;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let mx: Awaited<ReturnType<typeof startRemoteMx>>;
let token: string;
const saved = { ...process.env };

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  mx = await startRemoteMx();
  // The harness passes its own environment on to `pnpm start` and the five services.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
  process.env.OTEL_BSP_SCHEDULE_DELAY = "200";
  // A deferred delivery comes back within seconds, so its retry can be traced here.
  process.env.RELAY_MIN_BACKOFF = "1s";
  correo = await startCorreo("e2e-obs-traces");
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", "ana@example.test", "--password-stdin"], "ana-secret-1\n");
  await correo.cli(["transport", "add", "ok.test", `127.0.0.1:${mx.port}`]);
  await correo.cli(["transport", "add", "later.test", `127.0.0.1:${mx.port}`]);
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
});

afterAll(async () => {
  process.env = saved;
  await correo?.stop();
  await receiver?.close();
  await mx?.close();
});

describe("traces", () => {
  it("follows one message from the HTTP request through routing to the mailbox and the remote MX in one trace", async () => {
    const sent = await send(correo, token, {
      from: "ana@example.test",
      to: ["ana@example.test", "bob@ok.test"],
      subject: "traced",
      text: "one trace, four services",
    });
    expect(sent.status).toBe(202);

    // The request span of the submission service is the root of the message's trace.
    const root = await eventually(async () =>
      receiver.spans.find((s) => s.service === "correo-submission" && s.parentSpanId === undefined && /POST/.test(s.name) &&
        String(s.attributes["url.path"] ?? s.attributes["http.target"] ?? "").startsWith("/v1/messages")),
    30_000, "the HTTP request span");
    const expected = ["message.submitted process", "delivery.local process", "delivery.remote process", "mailbox.changed process"];
    const trace = await eventually(async () => {
      const spans = receiver.spans.filter((s) => s.traceId === root.traceId);
      return expected.every((name) => spans.some((s) => s.name === name)) ? spans : undefined;
    }, 30_000, "consumer spans of routing, mailbox, relay-queue and retrieval in the same trace");

    const serviceOf = (name: string) => trace.find((s) => s.name === name)!.service;
    expect(serviceOf("message.submitted process")).toBe("correo-routing");
    expect(serviceOf("delivery.local process")).toBe("correo-mailbox");
    expect(serviceOf("delivery.remote process")).toBe("correo-relay-queue");
    // The mailbox's mailbox.changed reaches retrieval (IMAP IDLE) in the same trace.
    expect(serviceOf("mailbox.changed process")).toBe("correo-retrieval");
    expect(new Set(trace.map((s) => s.service))).toEqual(
      new Set(["correo-submission", "correo-routing", "correo-mailbox", "correo-relay-queue", "correo-retrieval"]),
    );

    // A single tree: one root, and every other span's parent is in the trace.
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => s.parentSpanId === undefined)).toEqual([root]);
    const orphans = trace.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId));
    expect(orphans.map((s) => `${s.service}: ${s.name}`)).toEqual([]);

    // Each consumer span descends from the request span, across the broker.
    const parentOf = new Map(trace.map((s) => [s.spanId, s.parentSpanId]));
    const ancestors = (s: ReceivedSpan) => {
      const seen: string[] = [];
      for (let p = s.parentSpanId; p !== undefined; p = parentOf.get(p)) seen.push(p);
      return seen;
    };
    for (const name of expected) expect(ancestors(trace.find((s) => s.name === name)!)).toContain(root.spanId);
    for (const name of expected) {
      expect(trace.find((s) => s.name === name)!.attributes).toMatchObject({ "messaging.system": "rabbitmq" });
    }
    // No other message's spans joined this trace.
    expect(receiver.spans.filter((s) => s.traceId === root.traceId).length).toBe(trace.length);
  });

  it("traces a relay retry as its own trace, linked to the message's trace", async () => {
    const sent = await send(correo, token, { from: "ana@example.test", to: ["carl@later.test"], subject: "retried", text: "451 first" });
    expect(sent.status).toBe(202);
    const root = await eventually(async () =>
      // The request whose trace reached the relay but no mailbox: this message's, not the first test's.
      receiver.spans.find((s) => s.service === "correo-submission" && s.parentSpanId === undefined &&
        receiver.spans.some((c) => c.traceId === s.traceId && c.name === "delivery.remote process") &&
        !receiver.spans.some((c) => c.traceId === s.traceId && c.name === "delivery.local process")),
    30_000, "the retried message's first trace");
    // The retry starts from the Redis schedule, not from a request: a new trace, linked back.
    const retry = await eventually(async () =>
      receiver.spans.find((s) => s.name === "delivery.remote retry" && s.links.some((l) => l.traceId === root.traceId)),
    30_000, "the retry span linked to the message's trace");
    expect(retry.service).toBe("correo-relay-queue");
    expect(retry.traceId).not.toBe(root.traceId);
    expect(retry.attributes["correo.message.id"]).toBe(sent.body.id);
    // The retried attempt itself runs in the retry's trace.
    await eventually(async () =>
      receiver.spans.some((s) => s.traceId === retry.traceId && s.name === "delivery.remote process" && s.service === "correo-relay-queue"),
    30_000, "the retried attempt in the retry's trace");
    await eventually(async () => mx.received.some((r) => r.includes("carl@later.test")), 30_000, "delivered on retry");
  });
});
