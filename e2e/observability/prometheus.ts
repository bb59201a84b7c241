import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { spawn } from "node:child_process";
import { eventually, freePort, repoRoot } from "@correo/testkit";

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scrape_interval?: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}
interface PrometheusConfig {
  global?: Record<string, string>;
  scrape_configs: ScrapeConfig[];
}

/**
 * deploy/prometheus/prometheus.yml as it would run against this test's processes:
 * every compose target `host:port` is mapped to where the test runs it; job names,
 * metrics paths, params and labels stay as deployed. Intervals are shortened so that
 * rates have samples within seconds.
 */
export function rewriteScrapeConfig(text: string, targets: Record<string, string>, interval = "2s"): string {
  const config = parse(text) as PrometheusConfig;
  // The scrape timeout is at most the interval: 2 s leaves a loaded machine room to answer.
  config.global = { ...config.global, scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval };
  for (const job of config.scrape_configs) {
    delete job.scrape_interval;
    for (const group of job.static_configs) {
      group.targets = group.targets.map((t) => {
        const mapped = targets[t];
        if (!mapped) throw new Error(`no test address for scrape target ${t} (job ${job.job_name})`);
        return mapped;
      });
    }
  }
  return stringify(config);
}

/** The `host:port` targets of one job of a scrape config, e.g. "routing:9102" in job correo. */
export function scrapeTargets(text: string, jobName: string): string[] {
  const job = (parse(text) as PrometheusConfig).scrape_configs.find((j) => j.job_name === jobName);
  if (!job) throw new Error(`no scrape job ${jobName}`);
  return job.static_configs.flatMap((g) => g.targets);
}

export function deployedScrapeConfig(): string {
  return readFileSync(join(repoRoot, "deploy", "prometheus", "prometheus.yml"), "utf8");
}

export interface RunningPrometheus {
  url: string;
  output(): string;
  /** An instant query; the vector or scalar it returns. */
  query(expr: string): Promise<{ resultType: string; result: unknown[] | unknown }>;
  targets(): Promise<{ job: string; instance: string; health: string; lastError: string }[]>;
  stop(): Promise<void>;
}

/** Debian's `prometheus`, on a free loopback port with a throw-away storage directory. */
export async function startPrometheus(config: string, binary = "prometheus"): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "correo-prometheus-"));
  const port = await freePort();
  writeFileSync(join(dir, "prometheus.yml"), config.replaceAll("127.0.0.1:9090", `127.0.0.1:${port}`));
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (err) => (output += `cannot run ${binary}: ${err.message} (scripts/install-test-deps.sh installs it)`));
  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string, params: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data: any; error?: string };
    if (body.status !== "success") throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  };
  await eventually(
    async () => {
      if (child.exitCode !== null || /cannot run/.test(output)) throw new Error(`prometheus exited:\n${output}`);
      return (await fetch(`${url}/-/ready`).then((r) => r.ok).catch(() => false)) || undefined;
    },
    30_000,
    "prometheus ready",
  );
  return {
    url,
    output: () => output,
    query: (expr) => api("/api/v1/query", { query: expr }),
    targets: async () =>
      ((await api("/api/v1/targets")).activeTargets as any[]).map((t) => ({
        job: t.labels.job,
        instance: t.labels.instance,
        health: t.health,
        lastError: t.lastError,
      })),
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(force);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
