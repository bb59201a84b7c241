import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapFlow } from "imapflow";
import { serviceSpecs, type ServiceName } from "@correo/config";
import { freePort, isolatedInfra, repoRoot, spawnProcess, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { correoWrapper, deployCommand, imageEnv } from "../deploy/test/dockerfile.js";

/**
 * What the images hold, run without a container engine: the build stage's own
 * `pnpm deploy … && prune-image-tree.sh` into a temporary /prod, the five services
 * started from those trees with their image's ENV, and the `correo` the runtime stage
 * writes — then the README's compose path: domain, account, API key, a message over
 * HTTP, read over IMAP, and the first admin key on the admin API.
 */
const run = promisify(execFile);
const services = Object.keys(serviceSpecs) as ServiceName[];
const USER = "ana@example.com";
const PASSWORD = "ana-secret-1";

let prod: string;
let infra: IsolatedInfra;
let env: Record<string, string>;
const procs: RunningProcess[] = [];
let correoScript: string;

/** `correo <args>` as `docker compose exec -T submission correo <args>` runs it: text output. */
async function correo(...args: string[]): Promise<string> {
  const { stdout } = await run(correoScript, args, { env: { ...process.env, ...env }, cwd: tmpdir() });
  return stdout.trim();
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  prod = mkdtempSync(join(tmpdir(), "correo-image-trees-"));
  // The Dockerfile's command with /prod moved here; it runs in the checkout as in /src.
  const deploy = spawnSync("/bin/sh", ["-c", deployCommand().replaceAll("/prod/", `${prod}/`)], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(deploy.status, deploy.stderr.slice(-4000)).toBe(0);
  // The images copy /prod/<dir> to /app/<dir>: here /app is `prod` itself.
  correoScript = join(prod, "correo");
  writeFileSync(correoScript, correoWrapper("submission")!.replaceAll("/app/", `${prod}/`), { mode: 0o755 });

  infra = await isolatedInfra("e2e-image-trees");
  env = { ...infra.env, CORREO_LOG_FORMAT: "json", RELAY_SMTP_PORT: "1" };
  for (const spec of Object.values(serviceSpecs) as Record<string, { variable: string }>[]) {
    for (const { variable } of Object.values(spec)) {
      if (variable.endsWith("_PORT") && variable !== "OPS_PORT" && !variable.startsWith("RELAY_") && !(variable in env)) {
        env[variable] = String(await freePort());
      }
    }
  }
  for (const name of services) {
    // The image's ENV (NODE_ENV, NODE_OPTIONS, …), then the test's ports and servers.
    const ops = await freePort();
    const serviceEnv = { ...imageEnv(name), LISTEN_HOST: "127.0.0.1", ...env, OPS_PORT: String(ops) };
    const proc = spawnProcess(name, [join(prod, "services", name, "dist", "main.js")], serviceEnv);
    procs.push(proc);
    await waitForHttp(`http://127.0.0.1:${ops}/readyz`, 60_000, proc);
  }
}, 240_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await infra?.cleanup();
  if (prod) rmSync(prod, { recursive: true, force: true });
});

describe("the trees the Dockerfile puts in the images", () => {
  it("hold no sources, type declarations, source maps or tests", () => {
    for (const dir of [...services.map((s) => join("services", s)), join("packages", "cli")]) {
      const files = filesUnder(join(prod, dir));
      expect(files.length, dir).toBeGreaterThan(0);
      const left = files.filter((f) => /\.(ts|mts|cts|map|tsbuildinfo)$/.test(f) || /\/(src|test)\/[^/]*\.ts$/.test(f));
      expect(left.slice(0, 5), `${dir} still holds build-only files`).toEqual([]);
      expect(statSync(join(prod, dir, "dist", "main.js")).isFile()).toBe(true);
    }
    // The database's migrations ship with the services that migrate on start.
    const migrations = filesUnder(join(prod, "services", "submission")).filter((f) => /\/migrations\/[^/]+\.sql$/.test(f));
    expect(migrations.length).toBeGreaterThan(0);
  });

  it("run the README's compose path: CLI, HTTP send, IMAP read, the first admin key", async () => {
    expect(await correo("domain", "add", "example.com")).toBe("domain example.com added");
    expect(await correo("account", "add", USER, "--password", PASSWORD)).toBe(`account ${USER} added`);
    const key = await correo("apikey", "create", "--domain", "example.com");
    expect(key).toMatch(/^correo_\S+$/);

    const sent = await fetch(`http://127.0.0.1:${env.SUBMISSION_HTTP_PORT}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ from: `Ana <${USER}>`, to: USER, subject: "Hola desde Correo", text: "Llegó sin que nadie esperara en línea." }),
    });
    expect(sent.status).toBe(202);

    const imap = new ImapFlow({
      host: "127.0.0.1",
      port: Number(env.IMAP_PORT),
      secure: false,
      doSTARTTLS: true,
      auth: { user: USER, pass: PASSWORD },
      logger: false,
      tls: { rejectUnauthorized: false },
    });
    await imap.connect();
    try {
      let source = "";
      for (let i = 0; i < 200 && !source; i++) {
        const lock = await imap.getMailboxLock("INBOX");
        try {
          const msg = (imap.mailbox as { exists: number }).exists > 0 ? await imap.fetchOne("1", { source: true }) : false;
          if (msg && msg.source) source = msg.source.toString();
        } finally {
          lock.release();
        }
        if (!source) await new Promise((r) => setTimeout(r, 100));
      }
      expect(source).toContain("Subject: Hola desde Correo");
    } finally {
      await imap.logout();
    }

    const admin = await correo("adminkey", "create", "--description", "first");
    expect(admin).toMatch(/^correoadmin_\S+$/);
    const domains = `http://127.0.0.1:${env.SUBMISSION_HTTP_PORT}/v1/admin/domains`;
    const listed = await fetch(domains, { headers: { authorization: `Bearer ${admin}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { domains: { name: string }[] }).domains.map((d) => d.name)).toEqual(["example.com"]);
    // A domain API key is not an admin key.
    expect((await fetch(domains, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
  });
});
