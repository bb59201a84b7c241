import amqp from "amqplib";
import pg from "pg";
import { Redis } from "ioredis";

export type InfraName = "RabbitMQ" | "PostgreSQL" | "Redis";

const howToStart: Record<InfraName, string> = {
  RabbitMQ: "rabbitmq-server -detached   (or: docker compose up -d rabbitmq)",
  PostgreSQL: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (or: docker compose up -d postgres)",
  Redis:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no   (or: docker compose up -d redis)',
};

const envVar: Record<InfraName, string> = { RabbitMQ: "AMQP_URL", PostgreSQL: "DATABASE_URL", Redis: "REDIS_URL" };

/** A dependency that cannot be reached, described for a human: which, where, how to start it. */
export class InfraUnreachableError extends Error {
  constructor(
    readonly infra: InfraName,
    readonly url: string,
    readonly reason: string,
  ) {
    super(
      `${infra} is unreachable at ${redact(url)} (${reason}).\n` +
        `  Set ${envVar[infra]} if it runs elsewhere, or start it:\n    ${howToStart[infra]}`,
    );
    this.name = "InfraUnreachableError";
  }
}

/** Hides the password of a URL for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

function reasonOf(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  return code ? `${code}${e.message && !e.message.includes(code) ? ": " + e.message : ""}` : (e.message ?? String(err));
}

export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.replace(/\/[^/?]*(\?|$)/, "/postgres$1"), connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined); // a failure shows in connect()'s rejection
  try {
    await client.connect();
  } catch (err) {
    throw new InfraUnreachableError("PostgreSQL", url, reasonOf(err));
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function probeRabbitMQ(url: string): Promise<void> {
  try {
    const conn = await amqp.connect(url, { timeout: 3000 });
    await conn.close();
  } catch (err) {
    throw new InfraUnreachableError("RabbitMQ", url, reasonOf(err));
  }
}

export async function probeRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  // ioredis reports the socket error as an event and rejects connect() with a vaguer one.
  let socketError: unknown;
  redis.on("error", (err) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new InfraUnreachableError("Redis", url, reasonOf(socketError ?? err));
  } finally {
    redis.disconnect();
  }
}

/** Checks all three at once and reports every one that is down. */
export async function probeInfra(urls: { amqpUrl: string; databaseUrl: string; redisUrl: string }): Promise<InfraUnreachableError[]> {
  const results = await Promise.allSettled([
    probeRabbitMQ(urls.amqpUrl),
    probePostgres(urls.databaseUrl),
    probeRedis(urls.redisUrl),
  ]);
  return results.flatMap((r) => (r.status === "rejected" ? [r.reason as InfraUnreachableError] : []));
}
