import { randomBytes } from "node:crypto";
import amqp from "amqplib";
import pg from "pg";
import { createPool, ensureDatabase, migrate, quoteIdent, type Pool } from "@correo/db";
import { urlsFromEnv, type ServerUrls } from "./servers.js";

export interface IsolatedInfra {
  amqpUrl: string;
  databaseUrl: string;
  redisUrl: string;
  /** CORREO_PREFIX of this suite: broker names and Redis keys. */
  prefix: string;
  /** A migrated pool on this suite's own database. */
  pool: Pool;
  /** The environment a Correo process of this suite runs with. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export interface IsolationOptions {
  /** Servers to use instead of the environment's (e.g. the chaos suite's private ones). */
  urls?: Omit<ServerUrls, "source">;
  /** Creates the database in this tablespace. */
  tablespace?: string;
}

/**
 * One suite's private world on the shared servers: its own database (created and
 * migrated), its own broker name prefix and Redis key prefix. `cleanup` drops the
 * database and deletes the suite's queues, exchanges and keys.
 */
export async function isolatedInfra(suite: string, options: IsolationOptions = {}): Promise<IsolatedInfra> {
  const urls = options.urls ?? urlsFromEnv();
  const id = `${suite.toLowerCase().replace(/[^a-z0-9]+/g, "_").slice(0, 20)}_${randomBytes(4).toString("hex")}`;
  const prefix = `t_${id}`;
  const dbUrl = new URL(urls.databaseUrl);
  dbUrl.pathname = `/correo_test_${id}`;
  const databaseUrl = dbUrl.toString();
  if (options.tablespace) await createDatabase(urls.databaseUrl, dbUrl.pathname.slice(1), options.tablespace);
  await ensureDatabase(databaseUrl);
  const pool = createPool(databaseUrl);
  await migrate(pool);
  return {
    amqpUrl: urls.amqpUrl,
    databaseUrl,
    redisUrl: urls.redisUrl,
    prefix,
    pool,
    env: {
      AMQP_URL: urls.amqpUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL: urls.redisUrl,
      CORREO_PREFIX: prefix,
      CORREO_HOSTNAME: "mx.correo.test",
      LISTEN_HOST: "127.0.0.1",
    },
    async cleanup() {
      await pool.end().catch(() => undefined);
      await dropDatabase(urls.databaseUrl, dbUrl.pathname.slice(1));
      await deleteBrokerNames(urls.amqpUrl, prefix);
      await deleteRedisKeys(urls.redisUrl, prefix);
    },
  };
}

async function createDatabase(adminUrl: string, name: string, tablespace: string): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TABLESPACE ${quoteIdent(tablespace)}`);
  } finally {
    await client.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * The queues a suite's prefix can have: packages/broker's work queues and its dead-letter
 * queue (broker's topology test keeps the two lists equal). Every one left behind is a
 * quorum queue RabbitMQ keeps running: hundreds of them made the shared node stop answering.
 */
export const SUITE_QUEUE_SUFFIXES = ["routing", "relay-queue", "mailbox", "inbound", "webhooks", "dead-letter"] as const;

async function deleteBrokerNames(amqpUrl: string, prefix: string): Promise<void> {
  const conn = await amqp.connect(amqpUrl);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => undefined);
    for (const q of SUITE_QUEUE_SUFFIXES) await ch.deleteQueue(`${prefix}.${q}`);
    for (const x of ["mail", "mail.dlx"]) await ch.deleteExchange(`${prefix}.${x}`);
    await ch.close();
  } catch {
    /* best effort: a suite that never declared them has nothing to delete */
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch {
    /* best effort */
  } finally {
    redis.disconnect();
  }
}
