// Keeps docker-compose.yml, the Dockerfile and deploy/prometheus in step with the code:
// the services that exist, the variables each one reads, the ports it listens on.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
// The root package does not depend on @correo/config, so it is imported from its build
// (`pnpm test` runs `tsc -b` first).
import { loadConfig, serviceSpecs, variablesOf, type ServiceName } from "@correo/config";
import { correoWrapper, deployCommand, dockerfileStages, effective, execForm, exposedPorts, imageEnv, stageChain } from "./dockerfile.js";

const repoRoot = resolve(__dirname, "..", "..");
const correoServices = Object.keys(serviceSpecs) as ServiceName[];
const infraServices = ["rabbitmq", "postgres", "redis", "prometheus", "otel-collector", "jaeger", "grafana"];

// DESIGN.md "Public interface defaults": the port each listener uses in containers.
// OPS_PORT is the exception: each service keeps its own local default (9101–9105) in
// its container, so that the five can share one network namespace (host networking, a pod).
const containerPorts: Record<string, number> = {
  SUBMISSION_HTTP_PORT: 8080,
  SMTP_MX_PORT: 25,
  SMTP_SUBMISSION_PORT: 587,
  SMTPS_PORT: 465,
  IMAP_PORT: 143,
  IMAPS_PORT: 993,
  POP3_PORT: 110,
  POP3S_PORT: 995,
  RETRIEVAL_HTTP_PORT: 8081,
};
const opsPortOf = (name: ServiceName): number => Number(serviceSpecs[name].opsPort.fallback);
// *_PORT variables that name a port Correo connects to, not one it listens on.
const outboundPortVariables = new Set(["RELAY_SMTP_PORT"]);
// Variables of the images that Node itself reads, not Correo's config.
const nodeVariables = new Set(["NODE_ENV", "NODE_OPTIONS"]);
// The compose host each infrastructure URL must point at.
const infraUrlHosts: Record<string, string> = { AMQP_URL: "rabbitmq", DATABASE_URL: "postgres", REDIS_URL: "redis" };

// ---- docker-compose.yml -------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | string[];
  ports?: (string | number | { target: number; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(repoRoot, "docker-compose.yml"), "utf8"), { merge: true }) as ComposeFile;

/** Compose's `${VAR:-default}` / `${VAR-default}` / `${VAR}` as they read with VAR unset. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? "");
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const eq = line.indexOf("=");
        return eq < 0 ? [line, ""] : [line.slice(0, eq), line.slice(eq + 1)];
      })
    : Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]);
  return Object.fromEntries(entries.map(([k, v]) => [k!, interpolate(v!)]));
}

/** The container side of each `ports` entry: "8080", "8080:8080", "127.0.0.1:9101:9100/tcp", long syntax. */
function containerPortsOf(service: ComposeService): number[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === "object") return Number(p.target);
    const spec = String(p).replace(/\/(tcp|udp)$/, "");
    const last = spec.slice(spec.lastIndexOf(":") + 1);
    expect(last, `port range '${p}' is not supported here`).toMatch(/^\d+$/);
    return Number(last);
  });
}

function argv(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

function dependenciesOf(service: ComposeService): [string, { condition?: string }][] {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps) ? deps.map((d) => [d, {}]) : Object.entries(deps);
}

function hasHealthcheck(name: string): boolean {
  const service = compose.services[name];
  if (!service) return false;
  if (service.healthcheck) {
    const test = argv(service.healthcheck.test);
    return !service.healthcheck.disable && test.length > 0 && test[0] !== "NONE";
  }
  const target = typeof service.build === "object" ? service.build.target : undefined;
  const image = target ? effective(target, "HEALTHCHECK") : undefined;
  return image !== undefined && !/^NONE\b/i.test(image);
}

// ---- the checks ---------------------------------------------------------------------

describe("docker-compose.yml", () => {
  it("runs exactly the five Correo services and their infrastructure", () => {
    expect(Object.keys(compose.services).sort()).toEqual([...correoServices, ...infraServices].sort());
    for (const name of correoServices) {
      expect(existsSync(join(repoRoot, "services", name, "package.json")), `services/${name}`).toBe(true);
    }
  });

  describe.each(correoServices)("%s", (name) => {
    // A missing service fails the "exactly" test above; here it just has nothing.
    const service: ComposeService = compose.services[name] ?? {};
    const env = environmentOf(service);
    const target = typeof service.build === "object" ? service.build.target : undefined;
    const main = `services/${name}/dist/main.js`;

    it("builds its own target of the root Dockerfile, which runs its main.js", () => {
      expect(typeof service.build, "build: must be a mapping with a target").toBe("object");
      const build = service.build as { context?: string; dockerfile?: string; target?: string };
      expect(resolve(repoRoot, build.context ?? ".")).toBe(repoRoot);
      expect(build.dockerfile ?? "Dockerfile").toBe("Dockerfile");
      expect(
        dockerfileStages.map((s) => s.name),
        `Dockerfile has no stage '${target}'`,
      ).toContain(target);

      const cmd = execForm(effective(target!, "CMD"));
      expect(cmd, `the '${target}' stage must run ${main}`).toEqual(["node", main]);
      expect(effective(target!, "ENTRYPOINT"), "an ENTRYPOINT would change what CMD means").toBeUndefined();
      if (service.command !== undefined) expect(argv(service.command)).toEqual(cmd);
      expect(service.entrypoint).toBeUndefined();
    });

    it("runs as a non-root user with a health check on the ops server", () => {
      const user = effective(target!, "USER");
      expect(user, "the image must set USER").toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
      expect(effective(target!, "HEALTHCHECK")).toContain("/healthz");
      expect(hasHealthcheck(name)).toBe(true);
    });

    it("sets only variables that the service reads, with values it accepts", () => {
      const reads = variablesOf(serviceSpecs[name]);
      for (const variable of Object.keys(env)) {
        expect(reads, `${name} does not read ${variable}`).toContain(variable);
      }
      expect(() => loadConfig(serviceSpecs[name], env)).not.toThrow();
      expect(env.LISTEN_HOST, "published ports need LISTEN_HOST=0.0.0.0").toBe("0.0.0.0");
    });

    it("sets only variables in its image that the service or Node reads", () => {
      const image = imageEnv(target!);
      const reads = variablesOf(serviceSpecs[name]);
      for (const variable of Object.keys(image)) {
        if (nodeVariables.has(variable)) continue;
        expect(reads, `the '${target}' stage sets ${variable}, which ${name} does not read`).toContain(variable);
      }
      expect(() => loadConfig(serviceSpecs[name], image)).not.toThrow();
      expect(image.OPS_PORT, "the image's own ops port").toBe(String(opsPortOf(name)));
      // Compose may set it again, never to another port than the image's health check asks.
      if (env.OPS_PORT !== undefined) expect(env.OPS_PORT).toBe(image.OPS_PORT);
    });

    it("has the admin CLI on PATH as `correo`, running packages/cli's bin", () => {
      const workdir = effective(target!, "WORKDIR") ?? "/";
      const copies = stageChain(target!)
        .flatMap((st) => st.instructions.filter((i) => i.keyword === "COPY"))
        .map((i) => /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(i.args))
        .filter((m): m is RegExpExecArray => m !== null);
      const cli = copies.find((m) => m[2] === "/prod/packages/cli");
      expect(cli, `the '${target}' image copies no /prod/packages/cli`).toBeDefined();
      const cliDir = posix.resolve(workdir, cli![3]!);
      const bin = (JSON.parse(readFileSync(join(repoRoot, "packages/cli/package.json"), "utf8")) as { bin: Record<string, string> }).bin.correo;
      const wrapper = correoWrapper(target!);
      expect(wrapper, `the '${target}' image writes no /usr/local/bin/correo`).toBeDefined();
      expect(wrapper).toContain(`exec node ${posix.join(cliDir, bin!)} "$@"`);
    });

    it("points its infrastructure URLs at the compose services it waits for", () => {
      const deps = Object.fromEntries(dependenciesOf(service));
      for (const [variable, host] of Object.entries(infraUrlHosts)) {
        expect(env[variable], `${name} must set ${variable}`).toBeDefined();
        expect(new URL(env[variable]!).hostname, variable).toBe(host);
        expect(deps[host], `${name} must wait for ${host}`).toBeDefined();
      }
    });

    it("publishes exactly the ports it listens on, at DESIGN's container defaults", () => {
      const listeners = Object.keys(env).filter((v) => v.endsWith("_PORT") && !outboundPortVariables.has(v));
      expect(listeners).toContain("OPS_PORT");
      for (const variable of listeners) {
        const expected = variable === "OPS_PORT" ? opsPortOf(name) : containerPorts[variable];
        expect(expected, `no container default known for ${variable}`).toBeDefined();
        expect(Number(env[variable]), variable).toBe(expected);
      }
      const published = containerPortsOf(service);
      expect(new Set(published).size, "a container port is published twice").toBe(published.length);
      expect([...published].sort()).toEqual(listeners.map((v) => Number(env[v])).sort());
      for (const port of published) {
        expect(exposedPorts(target!), `the '${target}' stage does not EXPOSE ${port}`).toContain(port);
      }
    });
  });

  it("gives no two Correo services the same port, so that they can share one network namespace", () => {
    const owner = new Map<number, string>();
    for (const name of correoServices) {
      const env = environmentOf(compose.services[name] ?? {});
      const target = (compose.services[name]?.build as { target?: string } | undefined)?.target ?? name;
      // What the container listens on: compose's variables over the image's ENV.
      const listening = { ...imageEnv(target), ...env };
      for (const [variable, value] of Object.entries(listening)) {
        if (!variable.endsWith("_PORT") || outboundPortVariables.has(variable)) continue;
        const port = Number(value);
        expect(owner.get(port), `${name} ${variable}=${port} is taken by ${owner.get(port)}`).toBeUndefined();
        owner.set(port, `${name} ${variable}`);
      }
    }
  });

  it("publishes each ops port on 127.0.0.1 at the same number as in the container", () => {
    for (const name of correoServices) {
      const ops = String(opsPortOf(name));
      expect(compose.services[name]?.ports ?? [], name).toContain(`127.0.0.1:${ops}:${ops}`);
    }
  });

  it("restarts every service, infrastructure included, unless it was stopped", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart, `${name} has no restart policy`).toBe("unless-stopped");
    }
  });

  it("starts a service only after what it depends on is healthy", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of dependenciesOf(service)) {
        expect(compose.services[dependency], `${name} depends on unknown ${dependency}`).toBeDefined();
        expect(condition, `${name} → ${dependency}`).toBe("service_healthy");
        expect(hasHealthcheck(dependency), `${dependency} has no healthcheck`).toBe(true);
      }
    }
  });

  it("deploys each service and the CLI for the images, cut to what runs", () => {
    const deploy = deployCommand();
    const dirs = /for dir in (.*?); do/.exec(deploy)![1]!.split(/\s+/).sort();
    expect(dirs).toEqual([...correoServices.map((n) => `services/${n}`), "packages/cli"].sort());
    expect(deploy).toContain("--prod");
    expect(deploy).toContain("scripts/prune-image-tree.sh");
    expect(existsSync(join(repoRoot, "scripts/prune-image-tree.sh"))).toBe(true);
  });

  it("writes a `correo` that runs the CLI with its arguments as given", () => {
    // The wrapper with /app pointed at this checkout: `correo --help` and an unknown
    // command with a space in it reach packages/cli/dist/main.js unchanged.
    const dir = mkdtempSync(join(tmpdir(), "correo-wrapper-"));
    try {
      const script = join(dir, "correo");
      writeFileSync(script, correoWrapper("submission")!.replaceAll("/app/", `${repoRoot}/`), { mode: 0o755 });
      const help = spawnSync(script, ["--help"], { encoding: "utf8" });
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toContain("usage: correo <noun> <verb>");
      const unknown = spawnSync(script, ["no such", "verb"], { encoding: "utf8" });
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain("unknown command 'no such'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives every infrastructure service a healthcheck", () => {
    for (const name of infraServices) expect(hasHealthcheck(name), name).toBe(true);
  });

  it("mounts only files that exist and volumes that are declared", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === "string" ? volume.split(":")[0]! : (volume.source ?? "");
        if (/^[./~]/.test(source)) {
          expect(existsSync(resolve(repoRoot, source)), `${name} mounts missing ${source}`).toBe(true);
        } else if (source) {
          expect(Object.keys(compose.volumes ?? {}), `${name} uses undeclared volume ${source}`).toContain(source);
        }
      }
      for (const file of [service.env_file ?? []].flat()) {
        expect(existsSync(resolve(repoRoot, file)), `${name} reads missing ${file}`).toBe(true);
      }
    }
  });

  it("has Prometheus scrape every Correo service's ops port", () => {
    const config = parse(readFileSync(join(repoRoot, "deploy/prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = config.scrape_configs.find((j) => j.job_name === "correo");
    expect(job, "a 'correo' scrape job").toBeDefined();
    expect(job!.metrics_path ?? "/metrics").toBe("/metrics");
    const targets = job!.static_configs.flatMap((c) => c.targets).sort();
    const expected = correoServices.map((name) => `${name}:${environmentOf(compose.services[name]!).OPS_PORT}`);
    expect(targets).toEqual(expected.sort());
  });

  // Debian's docker-compose 1.29 validates offline; scripts/install-test-deps.sh installs it.
  const hasDockerCompose = (process.env.PATH ?? "")
    .split(":")
    .some((dir) => dir !== "" && existsSync(join(dir, "docker-compose")));
  it.skipIf(!hasDockerCompose)("is valid for docker-compose (config -q)", () => {
    const run = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
  }, 30_000);
});
