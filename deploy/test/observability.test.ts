// Keeps the observability deployment in step: docker-compose.yml against the files in
// deploy/ (Grafana provisioning and dashboards, Prometheus, the OpenTelemetry
// Collector, RabbitMQ's plugins), and the dashboards against the metric names that
// packages/telemetry/src/metrics.ts defines.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const repoRoot = resolve(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  command?: string[];
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, ComposeService> };

/** host path → container path of each short-syntax bind mount of a service. */
function mounts(service: string): { host: string; container: string }[] {
  return (compose.services[service]?.volumes ?? [])
    .filter((v) => /^[./]/.test(v))
    .map((v) => {
      const [host, container] = v.split(":");
      return { host: resolve(repoRoot, host!), container: container! };
    });
}

/** Where a container path comes from on the host, through the service's bind mounts. */
function hostPathOf(service: string, containerPath: string): string | undefined {
  for (const m of mounts(service)) {
    if (containerPath === m.container) return m.host;
    if (containerPath.startsWith(m.container + "/")) return join(m.host, posix.relative(m.container, containerPath));
  }
  return undefined;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

// ---- Grafana ------------------------------------------------------------------------

const provisioning = hostPathOf("grafana", "/etc/grafana/provisioning");
const datasourceFiles = provisioning ? filesUnder(join(provisioning, "datasources")).filter((f) => /\.ya?ml$/.test(f)) : [];
const datasources = datasourceFiles.flatMap(
  (f) => (parse(readFileSync(f, "utf8")) as { datasources: { uid: string; type: string; url: string }[] }).datasources,
);
const providers = provisioning
  ? filesUnder(join(provisioning, "dashboards"))
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => (parse(readFileSync(f, "utf8")) as { providers: { options: { path: string } }[] }).providers)
  : [];
const dashboardDir = join(repoRoot, "deploy", "grafana", "dashboards");
const dashboards = readdirSync(dashboardDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ file: f, doc: JSON.parse(readFileSync(join(dashboardDir, f), "utf8")) as any }));

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string; type: string };
  targets?: { expr: string; datasource?: { uid: string; type: string } }[];
  panels?: Panel[];
}
function panelsOf(doc: { panels: Panel[] }): Panel[] {
  return doc.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

describe("Grafana in docker-compose.yml", () => {
  it("mounts its provisioning from deploy/grafana, with data sources and a dashboard provider", () => {
    expect(provisioning, "grafana mounts /etc/grafana/provisioning").toBeDefined();
    expect(datasourceFiles.length).toBeGreaterThan(0);
    expect(providers.length).toBeGreaterThan(0);
  });

  it("loads the versioned dashboards from the directory it mounts", () => {
    for (const provider of providers) {
      expect(hostPathOf("grafana", provider.options.path), `nothing mounted at ${provider.options.path}`).toBe(dashboardDir);
    }
    expect(dashboards.map((d) => d.file).sort()).toEqual(["infrastructure.json", "overview.json", "protocols.json", "relay.json"]);
    const uids = dashboards.map((d) => d.doc.uid);
    expect(new Set(uids).size, "dashboard uids are unique").toBe(uids.length);
  });

  it("provisions every data source a dashboard panel uses, pointing at a compose service", () => {
    const provisioned = new Map(datasources.map((d) => [d.uid, d]));
    for (const { file, doc } of dashboards) {
      for (const panel of panelsOf(doc).filter((p) => p.type !== "row")) {
        for (const ds of [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)]) {
          expect(ds, `${file}: '${panel.title}' names its data source`).toBeDefined();
          const found = provisioned.get(ds!.uid);
          expect(found, `${file}: '${panel.title}' uses data source '${ds!.uid}', not provisioned`).toBeDefined();
          expect(found!.type).toBe(ds!.type);
        }
      }
    }
    for (const d of datasources) {
      const host = new URL(d.url).hostname;
      expect(compose.services[host], `data source ${d.uid} points at ${host}, not a compose service`).toBeDefined();
    }
    expect([...provisioned.values()].map((d) => d.type).sort()).toEqual(["jaeger", "prometheus"]);
  });

  it("charts only metric names that packages/telemetry/src/metrics.ts defines", () => {
    const defined = [...read("packages/telemetry/src/metrics.ts").matchAll(/"(correo\.[a-z_.]+)"/g)].map((m) => m[1]!.replaceAll(".", "_"));
    expect(defined.length).toBeGreaterThan(10);
    const used = new Set(
      dashboards.flatMap(({ doc }) =>
        panelsOf(doc).flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\bcorreo_[a-z_]+/g)].map((m) => m[0]))),
      ),
    );
    for (const name of used) {
      const base = name.replace(/_(total|bucket|count|sum)$/, "");
      expect(defined, `${name} is not a metric of packages/telemetry/src/metrics.ts`).toContain(base);
    }
  });
});

// ---- Prometheus and RabbitMQ --------------------------------------------------------

describe("Prometheus in docker-compose.yml", () => {
  const configPath = hostPathOf("prometheus", "/etc/prometheus/prometheus.yml");
  const config = parse(readFileSync(configPath ?? "/dev/null", "utf8")) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };

  it("scrapes RabbitMQ's Prometheus plugin, which the rabbitmq service enables", () => {
    const rabbitJobs = config.scrape_configs.filter((j) => j.static_configs.some((c) => c.targets.includes("rabbitmq:15692")));
    expect(rabbitJobs.map((j) => j.job_name).sort()).toEqual(["rabbitmq", "rabbitmq-queues"]);
    const plugins = hostPathOf("rabbitmq", "/etc/rabbitmq/enabled_plugins");
    expect(plugins, "rabbitmq mounts /etc/rabbitmq/enabled_plugins").toBeDefined();
    expect(readFileSync(plugins!, "utf8")).toMatch(/^\[[^\]]*\brabbitmq_prometheus\b[^\]]*\]\.\s*$/);
  });

  it("scrapes only hosts that are compose services", () => {
    for (const job of config.scrape_configs) {
      for (const target of job.static_configs.flatMap((c) => c.targets)) {
        const host = target.split(":")[0]!;
        expect(host === "127.0.0.1" || compose.services[host] !== undefined, `${job.job_name}: ${target}`).toBe(true);
      }
    }
  });
});

// ---- traces -------------------------------------------------------------------------

describe("the trace pipeline in docker-compose.yml", () => {
  const collectorConfigPath = hostPathOf("otel-collector", "/etc/otelcol/config.yaml");
  const collector = parse(readFileSync(collectorConfigPath ?? "/dev/null", "utf8")) as any;

  it("runs the collector with the config file it mounts", () => {
    expect(collectorConfigPath && existsSync(collectorConfigPath)).toBeTruthy();
    expect(compose.services["otel-collector"]!.command).toContain("--config=/etc/otelcol/config.yaml");
  });

  it("sends every Correo service's spans to the collector's OTLP/HTTP receiver", () => {
    const [, port] = String(collector.receivers.otlp.protocols.http.endpoint).split(":");
    for (const name of ["submission", "routing", "relay-queue", "mailbox", "retrieval"]) {
      const endpoint = new URL(compose.services[name]!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
      expect(endpoint.hostname, name).toBe("otel-collector");
      expect(endpoint.port, name).toBe(port);
    }
  });

  it("exports traces from the collector to Jaeger's OTLP receiver", () => {
    const pipeline = collector.service.pipelines.traces as { receivers: string[]; exporters: string[]; processors: string[] };
    expect(pipeline.receivers).toEqual(["otlp"]);
    for (const p of pipeline.processors) expect(collector.processors[p], p).toBeDefined();
    for (const name of pipeline.exporters) {
      const host = String(collector.exporters[name].endpoint).split(":")[0]!;
      expect(compose.services[host], `${name} exports to ${host}`).toBeDefined();
      expect(compose.services[host]!.environment?.COLLECTOR_OTLP_ENABLED).toBe("true");
    }
  });
});
