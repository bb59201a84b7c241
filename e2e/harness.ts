import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  eventually,
  freePort,
  isolatedInfra,
  repoRoot,
  spawnProcess,
  spawnService,
  waitForHttp,
  type IsolatedInfra,
  type IsolationOptions,
  type RunningProcess,
} from "@correo/testkit";
import { serviceSpecs } from "@correo/config";

const run = promisify(execFile);

export interface Correo {
  infra: IsolatedInfra;
  env: Record<string, string>;
  ports: { http: number; pop3: number; pop3s: number; mailboxApi: number; ops: Record<string, number> };
  start: RunningProcess;
  /** Runs `correo <args>` (the CLI) against this instance; returns its parsed --json output. */
  cli(args: string[], input?: string): Promise<any>;
  stop(): Promise<void>;
}

const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"] as const;

/**
 * Ports and environment of one Correo: every listener on a free port, its own database and
 * prefix; `extraEnv` sets configuration on top (e.g. MAILBOX_DUPLICATE_WINDOW=off).
 */
async function correoEnvironment(infra: IsolatedInfra, extraEnv: Record<string, string> = {}): Promise<{ env: Record<string, string>; ports: Correo["ports"] }> {
  const ports = { http: await freePort(), pop3: await freePort(), pop3s: await freePort(), mailboxApi: await freePort(), ops: {} as Record<string, number> };
  const env: Record<string, string> = {
    ...infra.env,
    SUBMISSION_HTTP_PORT: String(ports.http),
    POP3_PORT: String(ports.pop3),
    POP3S_PORT: String(ports.pop3s),
    RETRIEVAL_HTTP_PORT: String(ports.mailboxApi),
    CORREO_LOG_FORMAT: "json",
    LOG_LEVEL: "info",
    // Nothing leaves the machine in tests: every remote domain goes to a closed port.
    RELAY_SMTP_PORT: "1",
    ...extraEnv,
  };
  // Every other listener (SMTP, IMAP, …) on a free port too, so that a Correo already
  // running on the defaults, or another suite, never makes this one fail to start.
  for (const spec of Object.values(serviceSpecs) as Record<string, { variable: string }>[]) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_") && !(variable in env)) env[variable] = String(await freePort());
    }
  }
  // The submission service's SMTP listeners (issue 3), on free ports too: read them from `env`.
  for (const v of ["SMTP_MX_PORT", "SMTP_SUBMISSION_PORT", "SMTPS_PORT"]) env[v] = String(await freePort());
  for (const s of services) {
    ports.ops[s] = await freePort();
    env[`${s.toUpperCase().replace(/-/g, "_")}_OPS_PORT`] = String(ports.ops[s]);
  }
  return { env, ports };
}

function cliOf(env: Record<string, string>): Correo["cli"] {
  return async (args, input) => {
    const child = run(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), ...args, "--json"], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    if (input !== undefined) {
      child.child.stdin!.end(input);
    }
    const { stdout } = await child;
    return JSON.parse(stdout);
  };
}

/**
 * Awaits `ready`; when it fails, stops what was started (`abort`) and drops the suite's
 * share of the servers before rethrowing, so that a failed start leaves nothing behind.
 */
async function readyOrCleanUp(infra: IsolatedInfra, ready: () => Promise<unknown>, abort: () => Promise<unknown>): Promise<void> {
  try {
    await ready();
  } catch (err) {
    await abort();
    await infra.cleanup();
    throw err;
  }
}

/** What every started Correo has: stop() stops its processes, then drops its share of the servers. */
function correoHandle(infra: IsolatedInfra, env: Record<string, string>, ports: Correo["ports"], stopProcesses: () => Promise<unknown>): Omit<Correo, "start"> {
  return {
    infra,
    env,
    ports,
    cli: cliOf(env),
    async stop() {
      await stopProcesses();
      await infra.cleanup();
    },
  };
}

/**
 * Starts a whole Correo the way `pnpm start` does (scripts/dist/start.js after the
 * build), on free ports, its own database and its own broker/Redis prefix; `extraEnv`
 * sets configuration on top.
 */
export async function startCorreo(suite: string, extraEnv: Record<string, string> = {}): Promise<Correo> {
  const infra = await isolatedInfra(suite);
  const { env, ports } = await correoEnvironment(infra, extraEnv);
  const start = spawnProcess("pnpm-start", [join(repoRoot, "scripts", "dist", "start.js")], env);
  await readyOrCleanUp(
    infra,
    () =>
      eventually(
        async () => {
          if (start.child.exitCode !== null) throw new Error(`pnpm start exited:\n${start.output().slice(-4000)}`);
          return start.output().includes("all five services are ready");
        },
        60_000,
        "all five services ready",
      ),
    () => start.stop(),
  );
  return { ...correoHandle(infra, env, ports, () => start.stop(15_000)), start };
}

export type ServiceName = (typeof services)[number];

/** An exit of a service that nobody asked for. */
export interface Crash {
  service: ServiceName;
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines it printed. */
  tail: string;
}

export interface SupervisedCorreo extends Omit<Correo, "start"> {
  services: readonly ServiceName[];
  process(name: ServiceName): RunningProcess;
  /** kill -9; the supervisor starts it again at once, as compose's `restart:` would. */
  kill(name: ServiceName): Promise<void>;
  /** Whether the service's process runs and its /readyz answers 200. */
  ready(name: ServiceName): Promise<boolean>;
  /** Resolves when the process of `name` runs and is ready. */
  waitReady(name: ServiceName, timeoutMs?: number): Promise<void>;
  /** Exits the supervisor did not cause; it restarts those too (after a second). */
  crashes: Crash[];
  /** How many times each service was started. */
  starts: Record<ServiceName, number>;
}

export interface SupervisedOptions {
  /** Servers to run on (default: the environment's). */
  urls?: IsolationOptions["urls"];
  /** The database's tablespace. */
  tablespace?: string;
  /** More environment for every service (e.g. a shorter retry policy). */
  env?: Record<string, string>;
  /** Runs after the migrations, before the services start (directory data). */
  prepare?: (infra: IsolatedInfra) => Promise<void>;
}

/**
 * A Correo as an operator runs it under a supervisor (compose, systemd): the same
 * preparation as `pnpm start` (`scripts/dist/migrate.js`: migrations, broker topology),
 * then the five services as separate processes with the environment `pnpm start` gives
 * each; a service that exits — killed by the test or on its own — is started again.
 * `pnpm start` itself stops everything when one service dies, which suits a developer
 * but not a test that kills services.
 */
export async function startSupervisedCorreo(suite: string, options: SupervisedOptions = {}): Promise<SupervisedCorreo> {
  const infra = await isolatedInfra(suite, { urls: options.urls, tablespace: options.tablespace });
  const base = await correoEnvironment(infra);
  const env = { ...base.env, ...options.env };
  const { ports } = base;
  const procs = new Map<ServiceName, RunningProcess>();
  const expected = new Set<RunningProcess>();
  const crashes: Crash[] = [];
  const starts = Object.fromEntries(services.map((s) => [s, 0])) as Record<ServiceName, number>;
  let stopping = false;

  const ready = async (name: ServiceName) => {
    const proc = procs.get(name);
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${ports.ops[name]}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return res.status === 200;
    } catch {
      return false;
    }
  };
  const launch = (name: ServiceName) => {
    const proc = spawnService(name, { ...env, OPS_PORT: String(ports.ops[name]) });
    starts[name]++;
    procs.set(name, proc);
    proc.child.once("exit", (code, signal) => {
      if (stopping) return;
      const asked = expected.delete(proc);
      if (!asked) crashes.push({ service: name, at: Date.now(), code, signal, tail: proc.output().slice(-3000) });
      setTimeout(() => {
        if (!stopping && procs.get(name) === proc) launch(name);
      }, asked ? 100 : 1000);
    });
  };
  const waitReady = (name: ServiceName, timeoutMs = 60_000) =>
    eventually(async () => ready(name), timeoutMs, `${name} ready`).then(() => undefined);

  const prepare = spawnProcess("migrate", [join(repoRoot, "scripts", "dist", "migrate.js")], env);
  // The test runner exiting (Ctrl-C, a timeout) must not leave the services running.
  const killOnExit = () => {
    stopping = true;
    for (const p of procs.values()) p.child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const stopAll = async () => {
    stopping = true;
    process.off("exit", killOnExit);
    await Promise.all([...procs.values()].map((p) => p.stop(10_000)));
  };
  await readyOrCleanUp(
    infra,
    async () => {
      if ((await prepare.exited) !== 0) throw new Error(`migrate failed:\n${prepare.output().slice(-4000)}`);
      await options.prepare?.(infra);
      for (const name of services) launch(name);
      await Promise.all(services.map((name) => waitReady(name)));
    },
    stopAll,
  );
  return {
    ...correoHandle(infra, env, ports, stopAll),
    services,
    crashes,
    starts,
    process: (name) => procs.get(name)!,
    async kill(name) {
      const proc = procs.get(name)!;
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
      expected.add(proc);
      await proc.kill();
    },
    ready,
    waitReady,
  };
}

/** Runs Python's poplib against the instance (e2e/clients/pop3_client.py). */
export async function pop3(correo: Correo, user: string, password: string, action: string, arg?: number): Promise<any> {
  const script = join(repoRoot, "e2e", "clients", "pop3_client.py");
  const args = [script, "127.0.0.1", String(correo.ports.pop3), user, password, action];
  if (arg !== undefined) args.push(String(arg));
  const { stdout } = await run("python3", args, { timeout: 30_000 });
  return JSON.parse(stdout);
}

/** One copy of every service: its own listener ports and ops ports, the others' database, prefix and Redis. */
export interface CorreoCopy {
  env: Record<string, string>;
  ports: Correo["ports"];
  process(name: ServiceName): RunningProcess;
}

export interface CorreoCopies {
  infra: IsolatedInfra;
  copies: CorreoCopy[];
  stop(): Promise<void>;
}

/**
 * `count` copies of each of the five services at once, as an operator scales Correo out:
 * one database, one broker prefix and one Redis prefix for all of them (the state they
 * share), and per copy its own listener ports and ops port (what must differ on one host).
 */
export async function startCorreoCopies(suite: string, count: number, options: Omit<SupervisedOptions, "urls" | "tablespace"> = {}): Promise<CorreoCopies> {
  const infra = await isolatedInfra(suite);
  const copies: CorreoCopy[] = [];
  const procs: RunningProcess[] = [];
  const killOnExit = () => procs.forEach((p) => p.child.kill("SIGKILL"));
  process.once("exit", killOnExit);
  const stopAll = async () => {
    process.off("exit", killOnExit);
    await Promise.all(procs.map((p) => p.stop(10_000)));
  };
  await readyOrCleanUp(
    infra,
    async () => {
      const base = await correoEnvironment(infra, options.env);
      const prepare = spawnProcess("migrate", [join(repoRoot, "scripts", "dist", "migrate.js")], base.env);
      if ((await prepare.exited) !== 0) throw new Error(`migrate failed:\n${prepare.output().slice(-4000)}`);
      await options.prepare?.(infra);
      for (let i = 0; i < count; i++) {
        const { env, ports } = i === 0 ? base : await correoEnvironment(infra, options.env);
        const mine = new Map<ServiceName, RunningProcess>();
        for (const name of services) {
          const proc = spawnProcess(`${name}#${i + 1}`, [join(repoRoot, "services", name, "dist", "main.js")], { ...env, OPS_PORT: String(ports.ops[name]) });
          mine.set(name, proc);
          procs.push(proc);
        }
        copies.push({ env, ports, process: (name) => mine.get(name)! });
      }
      await Promise.all(
        copies.flatMap((copy) =>
          services.map((name) => {
            const proc = copy.process(name);
            return waitForHttp(`http://127.0.0.1:${copy.ports.ops[name]}/readyz`, 90_000, proc);
          }),
        ),
      );
    },
    stopAll,
  );
  return {
    infra,
    copies,
    async stop() {
      await stopAll();
      await infra.cleanup();
    },
  };
}
