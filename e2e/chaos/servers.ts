import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ServerUrls } from "@correo/testkit";

const run = promisify(execFile);

/**
 * Private PostgreSQL, Redis and RabbitMQ for the chaos suite, on ports of their own in
 * 40000-44999, with their data under /tmp/correo-chaos/<pid>. The suite may restart,
 * flush and alarm them; the shared servers (5432, 6379, 5672) are never touched.
 *
 * Everything started is written to state.json first, so that `stop` — and the next run,
 * if this one was killed before it could clean up — knows what to stop.
 */
const BASE = "/tmp/correo-chaos";
const isRoot = process.getuid?.() === 0;

export interface PrivateServers {
  urls: ServerUrls;
  /** The RabbitMQ node's name, e.g. chaos1234@localhost. */
  rabbitNode: string;
  /** Restarts PostgreSQL with `pg_ctl restart -m <mode>`. */
  restartPostgres(mode: "fast" | "immediate"): Promise<void>;
  /** Runs SQL on the `postgres` database with psql; returns its unaligned output. */
  sql(query: string): Promise<string>;
  /** FLUSHALL on the private Redis. */
  flushRedis(): Promise<void>;
  stopRabbit(): Promise<void>;
  startRabbit(): Promise<void>;
  /** `set_vm_memory_high_watermark`: 0 raises the memory alarm, which blocks every publisher. */
  setMemoryWatermark(fraction: number): Promise<void>;
  /**
   * A tablespace on a small tmpfs (root only): returns its name, or a reason why the
   * machine does not allow it.
   */
  smallTablespace(megabytes: number): Promise<{ name: string } | { unavailable: string }>;
  stop(): Promise<void>;
}

interface State {
  owner: number;
  pgBin?: string;
  pgData?: string;
  redisPid?: number;
  rabbitNode?: string;
  rabbitEnv?: Record<string, string>;
  mounts: string[];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A port in 40000-44999 that is free now (and `port + 1` too, when `pair`). */
async function privatePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = 40_000 + Math.floor(Math.random() * 4_990);
    if (taken.has(port)) continue;
    if (await canBind(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port in 40000-44999");
}

function pgBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (scripts/install-test-deps.sh installs them)");
  return join(root, versions[0]!, "bin");
}

/** Runs a command as `user` when we are root (PostgreSQL and RabbitMQ refuse to run as root). */
function asUser(user: string, cmd: string, args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const fullEnv = { ...process.env, ...env };
  if (!isRoot) return run(cmd, args, { env: fullEnv, timeout });
  return run("runuser", ["-u", user, "--", cmd, ...args], { env: fullEnv, timeout });
}

function chownTo(path: string, user: "postgres" | "rabbitmq"): void {
  if (!isRoot) return;
  const ids = { postgres: [101, 104], rabbitmq: [106, 109] } as const;
  // Look the ids up rather than trusting the numbers above where the system differs.
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  const [uid, gid] = passwd ? [Number(passwd.split(":")[2]), Number(passwd.split(":")[3])] : ids[user];
  chownSync(path, uid, gid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const RABBIT_LIB = "/usr/lib/rabbitmq/bin";

function rabbitEnvFor(state: State): Record<string, string> {
  // The Debian package keeps the Erlang cookie in rabbitmq's home; as root we run as rabbitmq.
  return { ...state.rabbitEnv!, ...(isRoot ? { HOME: "/var/lib/rabbitmq" } : {}) };
}

async function rabbitctl(state: State, args: string[], timeout = 60_000) {
  return asUser("rabbitmq", join(RABBIT_LIB, "rabbitmqctl"), ["-n", state.rabbitNode!, ...args], rabbitEnvFor(state), timeout);
}

/** Whether epmd knows the node (a stopped node is gone from it; rabbitmqctl would wait for it). */
async function nodeRegistered(node: string): Promise<boolean> {
  const name = node.split("@")[0]!;
  try {
    const { stdout } = await run("epmd", ["-names"], { timeout: 10_000 });
    return stdout.split("\n").some((l) => l.startsWith(`name ${name} at port`));
  } catch {
    return true;
  }
}

async function stopEverything(state: State, dir: string): Promise<void> {
  const errors: string[] = [];
  if (state.rabbitNode && (await nodeRegistered(state.rabbitNode))) {
    await rabbitctl(state, ["stop"], 60_000).catch((e: Error) => errors.push(`rabbitmq: ${e.message.split("\n")[0]}`));
  }
  if (state.pgData && state.pgBin && existsSync(join(state.pgData, "postmaster.pid"))) {
    await asUser("postgres", join(state.pgBin, "pg_ctl"), ["-D", state.pgData, "stop", "-m", "immediate", "-w"]).catch((e: Error) =>
      errors.push(`postgresql: ${e.message.split("\n")[0]}`),
    );
  }
  if (state.redisPid && alive(state.redisPid)) process.kill(state.redisPid, "SIGKILL");
  for (const mount of state.mounts) await run("umount", ["-l", mount]).catch((e: Error) => errors.push(`umount ${mount}: ${e.message}`));
  rmSync(dir, { recursive: true, force: true });
  if (errors.length) process.stderr.write(`chaos servers: teardown of ${dir}: ${errors.join("; ")}\n`);
}

/** Stops what an earlier run left behind when it was killed before its teardown. */
async function reapStale(): Promise<void> {
  if (!existsSync(BASE)) return;
  for (const entry of readdirSync(BASE)) {
    const dir = join(BASE, entry);
    const file = join(dir, "state.json");
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, "utf8")) as State;
    if (alive(state.owner)) continue;
    process.stderr.write(`chaos servers: cleaning up after dead run ${state.owner} (${dir})\n`);
    await stopEverything(state, dir);
  }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not up within ${timeoutMs} ms ${last}`);
}

export async function startPrivateServers(): Promise<PrivateServers> {
  await reapStale();
  const dir = join(BASE, String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  // 0755 all the way down, so that postgres and rabbitmq can reach their own directories.
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const state: State = { owner: process.pid, mounts: [] };
  const save = () => writeFileSync(join(dir, "state.json"), JSON.stringify(state));
  save();
  const taken = new Set<number>();
  const ports = { pg: await privatePort(taken), redis: await privatePort(taken), amqp: await privatePort(taken), dist: await privatePort(taken) };
  let redis: ChildProcess | undefined;
  let tornDown: Promise<void> | undefined;
  const teardown = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onSignal);
    tornDown ??= (async () => {
      redis?.kill("SIGKILL");
      await stopEverything(state, dir);
    })();
    return tornDown;
  };
  // Ctrl-C during a run: the test runner may exit before an asynchronous teardown is
  // over, so the stops are launched detached, at once; the next run removes the directory.
  const onSignal = (signal?: unknown) => {
    redis?.kill("SIGKILL");
    const detached = (cmd: string, args: string[], env: Record<string, string> = {}) =>
      spawn(isRoot ? "runuser" : cmd, isRoot ? ["-u", cmd.includes("rabbitmq") ? "rabbitmq" : "postgres", "--", cmd, ...args] : args, {
        env: { ...process.env, ...env },
        detached: true,
        stdio: "ignore",
      }).unref();
    if (state.rabbitNode) detached(join(RABBIT_LIB, "rabbitmqctl"), ["-n", state.rabbitNode, "stop"], rabbitEnvFor(state));
    if (state.pgData && state.pgBin) detached(join(state.pgBin, "pg_ctl"), ["-D", state.pgData, "stop", "-m", "immediate"]);
    // Listening to a signal replaced Node's default exit on it: exit, unless someone else handles it.
    if ((signal === "SIGINT" || signal === "SIGTERM") && process.listenerCount(signal) === 0) process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", onSignal);

  try {
    // PostgreSQL: a cluster of our own, trust on loopback, its socket in our directory.
    const pgBin = pgBinDir();
    const pgData = join(dir, "pg");
    mkdirSync(pgData, { mode: 0o700 });
    chownTo(pgData, "postgres");
    state.pgBin = pgBin;
    await asUser("postgres", join(pgBin, "initdb"), ["-D", pgData, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    state.pgData = pgData;
    save();
    const pgOptions = [
      `-p ${ports.pg}`,
      `-k ${pgData}`,
      "-c listen_addresses=127.0.0.1",
      "-c max_connections=300",
      // The chaos is in the processes, not in the machine: an OS crash is not simulated.
      "-c fsync=off",
      "-c full_page_writes=off",
    ].join(" ");
    await asUser("postgres", join(pgBin, "pg_ctl"), ["-D", pgData, "-l", join(pgData, "server.log"), "-o", pgOptions, "-w", "start"]);

    // Redis: no persistence, so FLUSHALL and restarts lose everything, as they may.
    redis = spawn("redis-server", ["--port", String(ports.redis), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
      detached: false,
    });
    state.redisPid = redis.pid;
    save();

    // RabbitMQ: a second node on the shared epmd (the shared node is rabbit@<host>).
    const node = `chaos${process.pid}@localhost`;
    const rabbitDir = join(dir, "rabbitmq");
    mkdirSync(join(rabbitDir, "mnesia"), { recursive: true });
    mkdirSync(join(rabbitDir, "log"), { recursive: true });
    writeFileSync(join(rabbitDir, "enabled_plugins"), "[].\n");
    writeFileSync(join(rabbitDir, "rabbitmq.conf"), `listeners.tcp.1 = 127.0.0.1:${ports.amqp}\nloopback_users.guest = true\n`);
    for (const p of [rabbitDir, join(rabbitDir, "mnesia"), join(rabbitDir, "log"), join(rabbitDir, "enabled_plugins"), join(rabbitDir, "rabbitmq.conf")]) chownTo(p, "rabbitmq");
    state.rabbitNode = node;
    state.rabbitEnv = {
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(ports.amqp),
      RABBITMQ_DIST_PORT: String(ports.dist),
      RABBITMQ_MNESIA_BASE: join(rabbitDir, "mnesia"),
      RABBITMQ_LOG_BASE: join(rabbitDir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(rabbitDir, "enabled_plugins"),
      RABBITMQ_CONFIG_FILE: join(rabbitDir, "rabbitmq.conf"),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    };
    save();
    const startRabbit = async () => {
      await asUser("rabbitmq", join(RABBIT_LIB, "rabbitmq-server"), ["-detached"], rabbitEnvFor(state));
      await waitFor(`RabbitMQ node ${node}`, 120_000, async () => {
        await rabbitctl(state, ["await_startup", "--timeout", "5"], 20_000);
        return true;
      });
    };
    await startRabbit();

    const sql = async (query: string) =>
      (await run(join(pgBin, "psql"), ["-h", "127.0.0.1", "-p", String(ports.pg), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atc", query], { timeout: 60_000 })).stdout;
    await waitFor("PostgreSQL", 30_000, async () => (await sql("SELECT 1")).trim() === "1");
    await waitFor("Redis", 30_000, async () => (await redisCommand(ports.redis, ["PING"])) === "+PONG");

    const urls: ServerUrls = {
      amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
      databaseUrl: `postgres://postgres@127.0.0.1:${ports.pg}/correo`,
      redisUrl: `redis://127.0.0.1:${ports.redis}`,
      source: "environment",
    };
    return {
      urls,
      rabbitNode: node,
      sql,
      async restartPostgres(mode) {
        await asUser("postgres", join(pgBin, "pg_ctl"), ["-D", pgData, "-l", join(pgData, "server.log"), "-o", pgOptions, "-m", mode, "-w", "restart"]);
      },
      async flushRedis() {
        const reply = await redisCommand(ports.redis, ["FLUSHALL"]);
        if (reply !== "+OK") throw new Error(`FLUSHALL answered ${reply}`);
      },
      async stopRabbit() {
        await rabbitctl(state, ["stop"]);
      },
      startRabbit,
      async setMemoryWatermark(fraction) {
        await rabbitctl(state, ["set_vm_memory_high_watermark", String(fraction)]);
      },
      async smallTablespace(megabytes) {
        if (!isRoot) return { unavailable: "mounting a small tmpfs needs root" };
        const mount = join(dir, `ts${state.mounts.length}`);
        mkdirSync(mount);
        try {
          await run("mount", ["-t", "tmpfs", "-o", `size=${megabytes}m,mode=0700`, "tmpfs", mount]);
        } catch (err) {
          return { unavailable: `mount -t tmpfs failed: ${(err as Error).message.split("\n")[0]}` };
        }
        state.mounts.push(mount);
        save();
        chownTo(mount, "postgres");
        const name = `chaos_small_${state.mounts.length}`;
        await sql(`CREATE TABLESPACE ${name} LOCATION '${mount}'`);
        return { name };
      },
      stop: teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** One Redis command over RESP; returns the first reply line. */
function redisCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
    let buf = "";
    sock.setTimeout(10_000, () => sock.destroy(new Error("Redis timed out")));
    sock.on("connect", () => sock.write(payload));
    sock.on("data", (d) => {
      buf += d.toString();
      const i = buf.indexOf("\r\n");
      if (i >= 0) {
        sock.end();
        resolve(buf.slice(0, i));
      }
    });
    sock.on("error", reject);
  });
}
