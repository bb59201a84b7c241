import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { eventually } from "@correo/testkit";
import { startCorreo, type Correo } from "./harness.js";
import { dashboardFiles, panelQueries, resolveGrafanaVariables } from "./observability/dashboards.js";
import { deployedScrapeConfig, rewriteScrapeConfig, scrapeTargets, startPrometheus, type RunningPrometheus } from "./observability/prometheus.js";
import { pop3Traffic, publishPoison, send, startRemoteMx } from "./observability/traffic.js";

/**
 * The dashboards in deploy/grafana/dashboards against a real Prometheus (Debian's
 * `prometheus`) that scrapes a running Correo and RabbitMQ with deploy/'s own scrape
 * config: after real traffic, every panel's query answers with data.
 */
const rabbitmqMetrics = "127.0.0.1:15692";
let correo: Correo;
let prometheus: RunningPrometheus;
let mx: Awaited<ReturnType<typeof startRemoteMx>>;

/** RabbitMQ serves /metrics only with its Prometheus plugin (compose enables it in deploy/rabbitmq/enabled_plugins). */
async function ensureRabbitmqPrometheus(): Promise<void> {
  const up = () => fetch(`http://${rabbitmqMetrics}/metrics`).then((r) => r.ok, () => false);
  if (await up()) return;
  execFileSync("rabbitmq-plugins", ["enable", "rabbitmq_prometheus"], { stdio: "ignore" });
  await eventually(async () => (await up()) || undefined, 30_000, "RabbitMQ's Prometheus endpoint");
}

beforeAll(async () => {
  await ensureRabbitmqPrometheus();
  mx = await startRemoteMx();
  // CORREO_OTEL_DB=on: the Infrastructure dashboard's query-latency panel reads the pg
  // instrumentation's histogram, off by default (docs/observability.md); here every panel is checked.
  correo = await startCorreo("e2e-obs-metrics", { CORREO_OTEL_DB: "on" });
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", "ana@example.test", "--password-stdin"], "ana-secret-1\n");
  await correo.cli(["transport", "add", "ok.test", `127.0.0.1:${mx.port}`]);
  await correo.cli(["transport", "add", "refuse.test", `127.0.0.1:${mx.port}`]);
  // Nothing listens on port 1: every attempt is refused and deferred.
  await correo.cli(["transport", "add", "down.test", "127.0.0.1:1"]);
  const token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token as string;

  const targets: Record<string, string> = { "rabbitmq:15692": rabbitmqMetrics, "127.0.0.1:9090": "127.0.0.1:9090" };
  // Each compose target is `<service>:<its ops port>`; the test runs that service's ops server elsewhere.
  for (const target of scrapeTargets(deployedScrapeConfig(), "correo")) {
    const service = target.slice(0, target.lastIndexOf(":"));
    targets[target] = `127.0.0.1:${correo.ports.ops[service]}`;
  }
  prometheus = await startPrometheus(rewriteScrapeConfig(deployedScrapeConfig(), targets));

  const sent = await send(correo, token, {
    from: "ana@example.test",
    to: ["ana@example.test", "nobody@example.test", "bob@ok.test", "carl@refuse.test", "dora@down.test"],
    subject: "observability",
    text: "one of each outcome",
  });
  expect(sent.status).toBe(202);
  await eventually(async () => {
    const { rows } = await correo.infra.pool.query("SELECT recipient, state FROM deliveries");
    const states = Object.fromEntries(rows.map((r: any) => [r.recipient, r.state]));
    return states["ana@example.test"] === "delivered" &&
      states["nobody@example.test"] === "bounced" &&
      states["bob@ok.test"] === "delivered" &&
      states["carl@refuse.test"] === "bounced" &&
      states["dora@down.test"] === "deferred" || Promise.reject(new Error(JSON.stringify(states)));
  }, 60_000, "every recipient in its expected state");
  await pop3Traffic(correo, "ana@example.test", "ana-secret-1");
  await publishPoison(correo);

  // A series is born at its first observation, so Prometheus never saw it at zero: the
  // rate of a first round is 0 and a latency quantile over it NaN. Once the series are
  // scraped, a second round of the same traffic makes every rate real.
  await eventually(async () => {
    const { result } = await prometheus.query('sum by (route) (correo_delivery_latency_count)');
    return (result as unknown[]).length === 2 || undefined;
  }, 30_000, "the first round scraped");
  const again = await send(correo, token, { from: "ana@example.test", to: ["ana@example.test", "bob@ok.test"], subject: "again", text: "2" });
  expect(again.status).toBe(202);
  await eventually(async () => {
    const { rows } = await correo.infra.pool.query("SELECT count(*)::int AS n FROM deliveries WHERE message_id = $1 AND state = 'delivered'", [again.body.id]);
    return rows[0].n === 2 || undefined;
  }, 60_000, "the second round delivered");
  await pop3Traffic(correo, "ana@example.test", "ana-secret-1");
});

afterAll(async () => {
  await prometheus?.stop();
  await correo?.stop();
  await mx?.close();
});

describe("Prometheus with deploy/prometheus/prometheus.yml", () => {
  it("scrapes every Correo service and RabbitMQ, with the deployed job names", async () => {
    const targets = await eventually(async () => {
      const t = await prometheus.targets();
      return t.length > 0 && t.every((x) => x.health === "up") ? t : undefined;
    }, 30_000, "every target up");
    expect([...new Set(targets.map((t) => t.job))].sort()).toEqual(["correo", "prometheus", "rabbitmq", "rabbitmq-queues"]);
    const services = await prometheus.query('count by (service) (up{job="correo"} == 1)');
    expect((services.result as any[]).map((r) => r.metric.service).sort()).toEqual(["mailbox", "relay-queue", "retrieval", "routing", "submission"]);
  });

  it("reads the truth: deferrals by domain, bounces by reply status, the retry schedule, the dead-letter queue", async () => {
    // Only what the traffic made: every counter also has its known label sets at 0 from the start (metrics-at-zero.e2e.test.ts).
    const values = async (expr: string) =>
      Object.fromEntries(
        ((await prometheus.query(expr)).result as any[]).map((r) => [JSON.stringify(r.metric), Number(r.value[1])]).filter(([, v]) => v !== 0),
      );
    const observed = async () => ({
      failures: await values("sum by (outcome, domain, status) (correo_delivery_failures_total)"),
      schedule: await values("max(correo_relay_schedule_size)"),
      deferred: await values('max(correo_deliveries_pending{state="deferred",route="remote"})'),
      deadLetter: await values('max(correo_queue_depth{queue=~".+\\\\.dead-letter"})'),
      accepted: await values("sum by (way) (correo_messages_accepted_total)"),
      // Local deliveries also count the DSNs that bounces send back to ana (issue 5), so remote ones only.
      completed: await values('sum by (outcome) (correo_deliveries_completed_total{route="remote"})'),
      authFailures: await values("sum by (protocol) (correo_protocol_auth_failures_total)"),
    });
    const key = (labels: Record<string, string>) => JSON.stringify(labels);
    const expected = {
      failures: {
        [key({ domain: "down.test", outcome: "deferred", status: "4.4.1" })]: 1,
        [key({ domain: "example.test", outcome: "bounced", status: "5.1.1" })]: 1,
        [key({ domain: "refuse.test", outcome: "bounced", status: "5.1.1" })]: 1,
      },
      schedule: { "{}": 1 },
      deferred: { "{}": 1 },
      deadLetter: { "{}": 1 },
      accepted: { [key({ way: "http" })]: 2 },
      completed: {
        [key({ outcome: "bounced" })]: 1,
        [key({ outcome: "delivered" })]: 2,
      },
      authFailures: { [key({ protocol: "pop3" })]: 2 },
    };
    await eventually(async () => {
      try {
        expect(await observed()).toEqual(expected);
        return true;
      } catch {
        return undefined;
      }
    }, 20_000, "the observed values").catch(() => undefined);
    expect(await observed()).toEqual(expected);
  });
});

describe.each(dashboardFiles())("dashboard %s", (file) => {
  it("has data for every panel's query", async () => {
    const queries = panelQueries(file);
    expect(queries.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const q of queries) {
      const expr = resolveGrafanaVariables(q.expr);
      const hasData = async () => {
        // Rates look back one minute: a fresh request keeps the HTTP latency windows from
        // emptying while slow scrapes (a loaded CI machine) are waited for.
        await fetch(`http://127.0.0.1:${correo.ports.http}/openapi.json`);
        // The same for the protocol command latency: a POP3 CAPA and QUIT.
        await pop3Capa(correo.ports.pop3);
        const { result } = await prometheus.query(expr);
        const samples = Array.isArray(result) ? result : [result];
        // A finite number: NaN (e.g. a quantile of nothing) is not data.
        return samples.some((s: any) => Number.isFinite(Number(s.value?.[1] ?? s[1]))) || undefined;
      };
      // Each query gets time for a scrape or two.
      const ok = await eventually(hasData, 30_000, q.panel).catch(() => false);
      if (!ok) missing.push(`${q.panel} [${q.refId}]: ${expr}`);
    }
    expect(missing, `panels of ${file} without data`).toEqual([]);
  }, 120_000);
});

/** One POP3 session of CAPA and QUIT: fresh protocol commands for the per-protocol rate windows. */
function pop3Capa(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 5_000);
    let greeted = false;
    socket.on("data", () => {
      if (greeted) return;
      greeted = true;
      socket.write("CAPA\r\nQUIT\r\n");
    });
    socket.on("close", done);
    socket.on("error", done);
  });
}
