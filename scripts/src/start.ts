import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ConfigError, infraSpec, loadConfig, serviceNames, serviceSpecs, type ServiceName } from "@correo/config";
import { prepareInfra } from "./infra-setup.js";
import { formatLogLine } from "./log-format.js";

/**
 * `pnpm start`: checks RabbitMQ, PostgreSQL and Redis, migrates, declares the
 * topology, then runs the five services as separate processes with prefixed,
 * readable logs. Ctrl-C stops them all. If one dies, the others are stopped too
 * (a supervisor such as compose restarts services; this runner is for development).
 *
 * Each service's ops port can be moved with <SERVICE>_OPS_PORT (e.g.
 * ROUTING_OPS_PORT=9202), because OPS_PORT alone would give all five the same port.
 */
const root = join(__dirname, "..", "..");
const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const COLOURS = ["\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m", "\x1b[32m"];
const json = process.env.CORREO_LOG_FORMAT === "json";
const say = (line: string) => process.stdout.write(`correo: ${line}\n`);

/**
 * Node flags of every service process; the Dockerfile gives the images the same in
 * NODE_OPTIONS. V8 lets the young generation grow to two 16 MB semi-spaces and keeps
 * them once grown: in five processes that was a third of their memory, idle. With 2 MB
 * semi-spaces the five take about half the memory, for more (short) scavenges.
 * CORREO_SERVICE_NODE_FLAGS replaces them (space-separated; empty for none).
 * docs/performance.md, "Memory", has the figures.
 */
const serviceNodeFlags = (process.env.CORREO_SERVICE_NODE_FLAGS ?? "--max-semi-space-size=2").split(/\s+/).filter(Boolean);

function opsEnvName(name: ServiceName): string {
  return `${name.toUpperCase().replace(/-/g, "_")}_OPS_PORT`;
}

function envFor(name: ServiceName): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  env.OPS_PORT = process.env[opsEnvName(name)] || serviceSpecs[name].opsPort.fallback;
  return env;
}

/** Where a service listens, from its own config spec: every port it opens, ops last. */
function listeners(name: ServiceName): string {
  const env = envFor(name);
  const config = loadConfig(serviceSpecs[name], env) as Record<string, unknown>;
  const spec = serviceSpecs[name] as Record<string, { variable: string; description: string }>;
  const host = String(config.listenHost);
  const ports = Object.entries(spec)
    .filter(([key, f]) => f.variable.endsWith("_PORT") && key !== "opsPort" && !f.variable.startsWith("RELAY_"))
    .map(([key, f]) => `${f.description.replace(/ port$/, "")} ${host}:${String(config[key])}`);
  return [...ports, `ops http://${host}:${String(config.opsPort)}/metrics`].join("  ·  ");
}

async function waitReady(name: ServiceName, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const port = envFor(name).OPS_PORT;
  const deadline = Date.now() + timeoutMs;
  const host = loadConfig({ listenHost: infraSpec.listenHost }).listenHost;
  const probeHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://${probeHost}:${port}/readyz`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s`);
}

async function main(): Promise<number> {
  let infra;
  try {
    infra = loadConfig(infraSpec);
    for (const name of serviceNames) loadConfig(serviceSpecs[name], envFor(name));
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return 78;
    }
    throw err;
  }
  if (!(await prepareInfra(infra, say))) return 69;

  const children = new Map<ServiceName, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping all services…");
    for (const child of children.values()) if (child.exitCode === null) child.kill("SIGTERM");
    const kill = setTimeout(() => {
      for (const child of children.values()) if (child.exitCode === null) child.kill("SIGKILL");
    }, 10_000);
    await Promise.all(
      [...children.values()].map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)))),
    );
    clearTimeout(kill);
    say("all services stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const width = Math.max(...serviceNames.map((n) => n.length));
  serviceNames.forEach((name, i) => {
    const child = spawn(process.execPath, [...serviceNodeFlags, join(root, "services", name, "dist", "main.js")], {
      cwd: root,
      env: envFor(name),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.set(name, child);
    const tag = colour ? `${COLOURS[i % COLOURS.length]}${name.padEnd(width)}\x1b[0m │` : `${name.padEnd(width)} │`;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) =>
        process.stdout.write(`${tag} ${json ? line : formatLogLine(line, colour)}\n`),
      );
    }
    child.once("exit", (code, signal) => {
      if (stopping) return;
      say(`${name} exited (${signal ?? `code ${code}`}); stopping the others`);
      void stopAll(1);
    });
  });

  try {
    await Promise.all(serviceNames.map((name) => waitReady(name, children.get(name)!)));
  } catch (err) {
    say(`✗ ${(err as Error).message}`);
    await stopAll(1);
    return 1;
  }
  say("all five services are ready:");
  for (const name of serviceNames) {
    process.stdout.write(`  ${name.padEnd(width)}  ${listeners(name)}\n`);
  }
  say("press Ctrl-C to stop");
  return new Promise<number>(() => undefined);
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    say(`✗ ${err.message}`);
    process.exit(1);
  },
);
