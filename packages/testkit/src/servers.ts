/**
 * Where the integration and e2e tests find RabbitMQ, PostgreSQL and Redis: containers
 * started by testcontainers when a container runtime answers, otherwise the servers
 * named by AMQP_URL, DATABASE_URL and REDIS_URL (defaults on localhost).
 */
export interface ServerUrls {
  amqpUrl: string;
  databaseUrl: string;
  redisUrl: string;
  source: "testcontainers" | "environment";
}

export const defaultUrls = {
  amqpUrl: "amqp://guest:guest@127.0.0.1:5672",
  databaseUrl: "postgres://postgres@127.0.0.1:5432/correo",
  redisUrl: "redis://127.0.0.1:6379",
};

export function urlsFromEnv(env: NodeJS.ProcessEnv = process.env): ServerUrls {
  return {
    amqpUrl: env.AMQP_URL || defaultUrls.amqpUrl,
    databaseUrl: env.DATABASE_URL || defaultUrls.databaseUrl,
    redisUrl: env.REDIS_URL || defaultUrls.redisUrl,
    source: "environment",
  };
}

async function containerRuntimeAvailable(timeoutMs: number): Promise<boolean> {
  if (process.env.CORREO_TESTCONTAINERS === "0") return false;
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs)),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Starts containers when it can (about a minute), else returns the environment's servers at once. */
export async function startTestServers(): Promise<{ urls: ServerUrls; stop: () => Promise<void> }> {
  if (!(await containerRuntimeAvailable(3000))) {
    return { urls: urlsFromEnv(), stop: async () => undefined };
  }
  // Needed where this sandbox runs a Docker engine: see shared/TOOLCHAIN.md.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  const [{ PostgreSqlContainer }, { RabbitMQContainer }, { RedisContainer }] = await Promise.all([
    import("@testcontainers/postgresql"),
    import("@testcontainers/rabbitmq"),
    import("@testcontainers/redis"),
  ]);
  const [pg, rabbit, redis] = await Promise.all([
    new PostgreSqlContainer("postgres:15-alpine").withDatabase("correo").withUsername("postgres").start(),
    new RabbitMQContainer("rabbitmq:3.13-management-alpine").start(),
    new RedisContainer("redis:7-alpine").start(),
  ]);
  return {
    urls: {
      amqpUrl: rabbit.getAmqpUrl(),
      databaseUrl: pg.getConnectionUri(),
      redisUrl: redis.getConnectionUrl(),
      source: "testcontainers",
    },
    stop: async () => {
      await Promise.allSettled([pg.stop(), rabbit.stop(), redis.stop()]);
    },
  };
}
