import { execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PrivateRabbitMQ {
  url: string;
  node: string;
  /** `rabbitmqctl -n <node> …` against this node only. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Whether this machine can start a private node: rabbitmq-server installed and run as root (it drops to the rabbitmq user). */
export function canStartPrivateRabbitMQ(): boolean {
  return existsSync("/usr/sbin/rabbitmq-server") && userInfo().uid === 0;
}

/**
 * A RabbitMQ node of the test's own (own node name, ports, data and config under a
 * temporary directory), for tests that must raise an alarm or restart the broker
 * without touching the shared one. The shared epmd and Erlang cookie are reused.
 */
export async function startPrivateRabbitMQ(amqpPort: number, distPort: number): Promise<PrivateRabbitMQ> {
  const dir = mkdtempSync("/tmp/correo-rabbitmq-");
  const node = `correo_test_${amqpPort}@localhost`;
  for (const d of ["mnesia", "log"]) mkdirSync(join(dir, d));
  writeFileSync(join(dir, "rabbitmq.conf"), `listeners.tcp.default = 127.0.0.1:${amqpPort}\nloopback_users = none\n`);
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  writeFileSync(join(dir, "env.conf"), "");
  const { stdout } = await run("id", ["-u", "rabbitmq"]).catch(() => ({ stdout: "" }));
  const { stdout: gid } = await run("id", ["-g", "rabbitmq"]).catch(() => ({ stdout: "" }));
  if (stdout.trim()) {
    for (const p of ["", "mnesia", "log", "rabbitmq.conf", "enabled_plugins", "env.conf"]) chownSync(join(dir, p), Number(stdout), Number(gid));
  }
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "env.conf"),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
  };
  const server = spawn("rabbitmq-server", [], { env, stdio: "ignore", detached: true });
  server.unref();
  const ctl = async (...args: string[]) => (await run("rabbitmqctl", ["-q", "-n", node, ...args], { timeout: 60_000 })).stdout;
  const stop = async () => {
    await ctl("stop").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await ctl("await_startup");
      break;
    } catch (err) {
      if (Date.now() > deadline || server.exitCode !== null) {
        await stop();
        throw new Error(`private RabbitMQ node ${node} did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return { url: `amqp://guest:guest@127.0.0.1:${amqpPort}`, node, ctl, stop };
}
