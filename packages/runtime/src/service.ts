import type { Server } from "node:http";
import { ConfigError, infraSpec, loadConfig, serviceSpecs, type ConfigOf, type ServiceName } from "@correo/config";
import { createLogger, startOpsServer, stopTelemetry, type Logger, type ReadinessCheck } from "@correo/telemetry";
import { createPool, ensureDatabase, migrate, type Pool } from "@correo/db";
import { Broker } from "@correo/broker";
import { Redis } from "ioredis";
import { InfraUnreachableError, probePostgres, probeRabbitMQ, probeRedis } from "./infra.js";
import { registerObservers } from "./observers.js";

export type ServiceConfig<N extends ServiceName> = ConfigOf<(typeof serviceSpecs)[N]>;

export interface ServiceContext<N extends ServiceName> {
  name: N;
  config: ServiceConfig<N>;
  log: Logger;
  pool: Pool;
  broker: Broker;
  /** Connects to Redis (with the configured URL) and stops it on shutdown. */
  redis(): Promise<Redis>;
  /** Adds a readiness check to /readyz. */
  ready(name: string, check: ReadinessCheck): void;
  /** Registers a step of the graceful stop; steps run in reverse order of registration. */
  onStop(step: () => Promise<void> | void): void;
}

export interface ServiceOptions {
  /** The pool's connections use generic plans (packages/db PoolOptions.genericPlans). */
  genericPlans?: boolean;
}

/**
 * The common shell of every service: config, logger, PostgreSQL (migrated), RabbitMQ
 * (topology declared), the ops server, and a graceful stop on SIGINT/SIGTERM. A bad
 * config value or an unreachable dependency ends the process with one clear message
 * and exit code 78 (EX_CONFIG) or 69 (EX_UNAVAILABLE), not a stack trace.
 */
export async function runService<N extends ServiceName>(
  name: N,
  start: (ctx: ServiceContext<N>) => Promise<void>,
  opts: ServiceOptions = {},
): Promise<void> {
  let config: ServiceConfig<N>;
  try {
    config = loadConfig(serviceSpecs[name]) as ServiceConfig<N>;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`correo-${name}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  // Every service's spec extends infraSpec with an ops port; this view of it is what the shell needs.
  const base = config as unknown as ConfigOf<typeof infraSpec> & { opsPort: number };
  const log = createLogger(name, base.logLevel);
  const stops: (() => Promise<void> | void)[] = [];
  const checks: Record<string, ReadinessCheck> = {};
  let stopping = false;

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    for (const step of stops.reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((err: Error) => log.warn({ err: err.message }, "error while stopping"));
    }
    await stopTelemetry();
    log.info("stopped");
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));

  try {
    await probePostgres(base.databaseUrl);
    await ensureDatabase(base.databaseUrl);
    const pool = createPool(base.databaseUrl, 10, {
      applicationName: `correo-${name} ${process.pid}`,
      genericPlans: opts.genericPlans,
      onConnectionError: (err) => log.warn({ err: err.message }, "PostgreSQL connection lost; the pool reconnects"),
    });
    stops.push(() => pool.end());
    await migrate(pool);
    checks.postgres = async () => void (await pool.query("SELECT 1"));

    await probeRabbitMQ(base.amqpUrl);
    const broker = new Broker({ url: base.amqpUrl, prefix: base.prefix, logger: log });
    await broker.connect();
    stops.push(() => broker.close());
    checks.rabbitmq = () => broker.check();

    // Not ready until the service's own listeners and consumers are up: /readyz is what
    // `pnpm start`, the tests and orchestrators wait for before sending traffic.
    let started = false;
    checks.started = async () => {
      if (!started) throw new Error("still starting");
    };
    const ops: Server = await startOpsServer({ host: base.listenHost, port: base.opsPort, checks });
    stops.push(() => new Promise<void>((r) => ops.close(() => r())));

    const ctx: ServiceContext<N> = {
      name,
      config,
      log,
      pool,
      broker,
      async redis() {
        await probeRedis(base.redisUrl);
        // ioredis reconnects by itself (back-off up to 2 s); commands queued meanwhile fail after 3 tries.
        const redis = new Redis(base.redisUrl, { maxRetriesPerRequest: 3, connectionName: `correo-${name}-${process.pid}` });
        redis.on("error", (err: Error) => log.warn({ err: err.message }, "redis error"));
        stops.push(() => void redis.disconnect());
        checks.redis = async () => void (await redis.ping());
        return redis;
      },
      ready: (n, check) => void (checks[n] = check),
      onStop: (step) => void stops.push(step),
    };
    await start(ctx);
    started = true;
    await registerObservers({ name, pool, amqpUrl: base.amqpUrl, prefix: base.prefix, topology: broker.topology, redis: ctx.redis, log, onStop: ctx.onStop });
    log.info({ opsPort: base.opsPort }, "started");
  } catch (err) {
    if (err instanceof InfraUnreachableError) {
      process.stderr.write(`correo-${name}: ${err.message}\n`);
      process.exit(69);
    }
    log.fatal({ err }, "failed to start");
    process.exit(1);
  }
}
