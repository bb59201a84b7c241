import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, repoRoot, spawnProcess, spawnService } from "@correo/testkit";

/** What a user sees when something is wrong before Correo can start: one clear message, no stack trace. */
describe("starting with a broken environment", () => {
  it("pnpm start names each unreachable server, its URL and how to start it, and exits 69", async () => {
    const [amqp, pg, redis] = [await freePort(), await freePort(), await freePort()];
    const start = spawnProcess("pnpm-start", [join(repoRoot, "scripts", "dist", "start.js")], {
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${amqp}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pg}/correo`,
      REDIS_URL: `redis://127.0.0.1:${redis}`,
    });
    expect(await start.exited).toBe(69);
    const out = start.output();
    expect(out).toContain(`RabbitMQ is unreachable at amqp://guest:***@127.0.0.1:${amqp} (ECONNREFUSED)`);
    expect(out).toContain(`PostgreSQL is unreachable at postgres://postgres@127.0.0.1:${pg}/correo (ECONNREFUSED)`);
    expect(out).toContain(`Redis is unreachable at redis://127.0.0.1:${redis} (ECONNREFUSED)`);
    expect(out).toContain("rabbitmq-server -detached");
    expect(out).toContain("pg_ctlcluster");
    expect(out).toContain("redis-server --daemonize yes");
    expect(out).not.toMatch(/^\s+at /m);
  });

  it("a service with a wrong setting names the variable and exits 78", async () => {
    const proc = spawnService("routing", { OPS_PORT: "ninety", POP3_PORT: "soon", REDRIVE_AFTER: "2 minutes" });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toContain("OPS_PORT must be a TCP port number (0-65535), got 'ninety'");
    expect(proc.output()).toContain("REDRIVE_AFTER must be a duration like 90s, 15m, 2h or 5d, got '2 minutes'");
    // Routing does not read retrieval's settings, so it does not complain about them.
    expect(proc.output()).not.toContain("POP3_PORT");
  });
});
