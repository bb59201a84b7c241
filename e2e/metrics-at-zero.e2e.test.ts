import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Issue 16: a freshly started Correo, before any mail, exports its counters at 0 for
 * their known label sets (Prometheus: a series is missing until its first sample), so a
 * healthy system's failure panels show 0, not "No data".
 */
let correo: Correo;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's samples (# lines skipped). */
function samples(text: string): Sample[] {
  return text
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(l)!;
      const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

async function scrape(service: string): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${correo.ports.ops[service]}/metrics`);
  expect(res.status).toBe(200);
  return samples(await res.text());
}

/** The expected series, each at exactly 0 (its labels a subset of the sample's). */
function expectZero(all: Sample[], name: string, labelSets: Record<string, string>[] = [{}]): void {
  for (const labels of labelSets) {
    const found = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(found, `${name}${JSON.stringify(labels)}`).not.toHaveLength(0);
    for (const s of found) expect(s.value, `${name}${JSON.stringify(s.labels)}`).toBe(0);
  }
}

const eachType = (types: string[], key: string, values: string[]) => types.flatMap((type) => values.map((v) => ({ type, [key]: v })));

beforeAll(async () => {
  correo = await startCorreo("e2e-metrics-zero");
});
afterAll(async () => {
  await correo?.stop();
});

describe("metrics of a freshly started Correo", () => {
  it("routing: dead letters, delivery failures and routing decisions at 0", async () => {
    const m = await scrape("routing");
    expectZero(m, "correo_broker_dead_lettered_total", eachType(["message.submitted"], "reason", ["invalid", "delivery-limit"]));
    expectZero(m, "correo_broker_consumed_total", eachType(["message.submitted"], "outcome", ["ok", "error"]));
    expectZero(m, "correo_broker_published_total", ["message.submitted", "delivery.local", "delivery.remote", "mailbox.changed"].map((type) => ({ type })));
    expectZero(
      m,
      "correo_delivery_failures_total",
      ["deferred", "bounced", "expired"].flatMap((outcome) => ["local", "remote"].map((route) => ({ outcome, route }))),
    );
    expectZero(m, "correo_deliveries_routed_total", ["local", "remote", "expand", "bounce", "test", "inbound"].map((route) => ({ route })));
    expectZero(m, "correo_complaints_received_total", ["recorded", "unmatched"].map((outcome) => ({ outcome })));
    expectZero(m, "correo_outbox_left_for_sweeper_total");
    expectZero(m, "correo_outbox_republished_total");
  });

  it("relay-queue and mailbox: final outcomes, DSNs, throttling and their dead letters at 0", async () => {
    const relay = await scrape("relay-queue");
    expectZero(relay, "correo_broker_dead_lettered_total", eachType(["delivery.remote"], "reason", ["invalid", "delivery-limit"]));
    expectZero(relay, "correo_deliveries_completed_total", ["delivered", "bounced", "expired"].map((outcome) => ({ outcome, route: "remote" })));
    expectZero(relay, "correo_dsn_sent_total", ["failure", "delay", "success"].map((kind) => ({ kind })));
    expectZero(relay, "correo_relay_throttled_total");
    expectZero(relay, "correo_relay_destinations_parked_total");
    // Inbound routes (issue 15): their POSTs and final outcomes.
    expectZero(relay, "correo_inbound_posts_total", ["delivered", "retry", "fallback"].map((outcome) => ({ outcome })));
    expectZero(relay, "correo_deliveries_completed_total", ["delivered", "bounced"].map((outcome) => ({ outcome, route: "inbound" })));
    expectZero(relay, "correo_webhook_attempts_total", [{ outcome: "ok" }, { outcome: "failed" }]);
    expectZero(relay, "correo_webhook_events_dispatched_total");
    expectZero(relay, "correo_webhook_endpoints_disabled_total");
    const mailbox = await scrape("mailbox");
    expectZero(mailbox, "correo_broker_dead_lettered_total", eachType(["delivery.local"], "reason", ["invalid", "delivery-limit"]));
    expectZero(mailbox, "correo_deliveries_completed_total", ["delivered", "bounced"].map((outcome) => ({ outcome, route: "local" })));
  });

  it("submission and retrieval: accepted messages, sessions and failed logins at 0", async () => {
    const sub = await scrape("submission");
    expectZero(sub, "correo_messages_accepted_total", ["http", "smtp-mx", "smtp-submission"].map((way) => ({ way })));
    expectZero(sub, "correo_protocol_auth_failures_total", [{ protocol: "smtp" }]);
    expectZero(sub, "correo_protocol_sessions_total", [{ protocol: "smtp", listener: "mx" }, { protocol: "smtp", listener: "submission" }]);
    const ret = await scrape("retrieval");
    expectZero(ret, "correo_protocol_auth_failures_total", ["imap", "pop3", "http"].map((protocol) => ({ protocol })));
    expectZero(ret, "correo_protocol_sessions_total", [{ protocol: "imap" }, { protocol: "pop3", tls: "none" }, { protocol: "pop3", tls: "implicit" }]);
  });
});
