import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const repoRoot = join(__dirname, "..", "..", "..");

// Ports handed to test servers come from below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), one block per
// vitest worker. A port picked by asking the kernel for port 0 is free only until
// someone else takes it: between the probe and the child's bind, another suite's
// outgoing connection or its own port-0 probe can land on it (CI saw exactly that:
// EADDRINUSE on 127.0.0.1:44019). Below 32768 the kernel never assigns ports on its
// own, and disjoint blocks keep concurrent workers apart.
const PORT_BASE = 20_000;
const PORT_BLOCK = 500;
const PORT_BLOCKS = 25; // 20000-32499
let nextOffset = Math.floor(Math.random() * PORT_BLOCK);

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/**
 * A loopback port that is free now and that no concurrently running test worker
 * will be handed: inside vitest, from this worker's own block below the ephemeral
 * range; elsewhere (benchmarks, scripts), whatever the kernel picks.
 */
export async function freePort(): Promise<number> {
  const poolId = Number(process.env.VITEST_POOL_ID);
  if (!Number.isInteger(poolId) || poolId < 1) return kernelPort();
  const blockStart = PORT_BASE + ((poolId - 1) % PORT_BLOCKS) * PORT_BLOCK;
  for (let tries = 0; tries < PORT_BLOCK; tries++) {
    const port = blockStart + (nextOffset++ % PORT_BLOCK);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${blockStart}-${blockStart + PORT_BLOCK - 1} for vitest worker ${poolId}`);
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export function spawnProcess(name: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const MAX = 2_000_000;
  const take = (b: Buffer) => {
    out += b.toString();
    if (out.length > MAX) out = out.slice(-MAX / 2);
    if (process.env.CORREO_TEST_LOGS) process.stderr.write(`[${name}] ${b.toString()}`);
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    name,
    child,
    output: () => out,
    exited,
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Starts one service from its build (`services/<name>/dist/main.js`), as `pnpm start` does. */
export function spawnService(service: string, env: Record<string, string>): RunningProcess {
  return spawnProcess(service, [join(repoRoot, "services", service, "dist", "main.js")], env);
}

/** Polls `url` until it answers 200, or fails with the process's output after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs = 20_000, proc?: RunningProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${proc.name} exited while starting:\n${proc.output().slice(-4000)}`);
    }
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} not ready within ${timeoutMs} ms${proc ? ":\n" + proc.output().slice(-4000) : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
