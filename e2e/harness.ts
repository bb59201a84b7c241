import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  eventually,
  freePort,
  isolatedInfra,
  repoRoot,
  spawnProcess,
  type IsolatedInfra,
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

const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"];

/**
 * Starts a whole Correo the way `pnpm start` does (scripts/dist/start.js after the
 * build), on free ports, its own database and its own broker/Redis prefix; `extraEnv`
 * sets configuration on top (e.g. MAILBOX_DUPLICATE_WINDOW=off).
 */
export async function startCorreo(suite: string, extraEnv: Record<string, string> = {}): Promise<Correo> {
  const infra = await isolatedInfra(suite);
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
  const start = spawnProcess("pnpm-start", [join(repoRoot, "scripts", "dist", "start.js")], env);
  try {
    await eventually(
      async () => {
        if (start.child.exitCode !== null) throw new Error(`pnpm start exited:\n${start.output().slice(-4000)}`);
        return start.output().includes("all five services are ready");
      },
      60_000,
      "all five services ready",
    );
  } catch (err) {
    await start.stop();
    await infra.cleanup();
    throw err;
  }
  return {
    infra,
    env,
    ports,
    start,
    async cli(args, input) {
      const child = run(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), ...args, "--json"], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
      });
      if (input !== undefined) {
        child.child.stdin!.end(input);
      }
      const { stdout } = await child;
      return JSON.parse(stdout);
    },
    async stop() {
      await start.stop(15_000);
      await infra.cleanup();
    },
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
