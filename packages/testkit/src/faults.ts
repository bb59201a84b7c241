import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { Redis } from "ioredis";
import { quoteIdent } from "@correo/db";

const run = promisify(execFile);

/**
 * Faults a test inflicts on its own share of the shared servers, never on the servers
 * themselves: PostgreSQL backends of its own database, Redis and RabbitMQ connections
 * of its own processes. (A suite that must restart a server starts a private one.)
 */

async function admin<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function databaseName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
}

/**
 * `pg_terminate_backend` for the backends of `databaseUrl`'s database whose
 * application_name starts with `applicationPrefix` (the services set `correo-<name> <pid>`);
 * `onlyIdleInTransaction` picks those held by a client between two queries of a
 * transaction. The clients get 57P01 "terminating connection due to administrator command".
 */
export async function terminateBackends(
  databaseUrl: string,
  opts: { applicationPrefix?: string; onlyIdleInTransaction?: boolean } = {},
): Promise<number> {
  return admin(databaseUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name LIKE $2
          AND ($3::boolean IS NOT TRUE OR state = 'idle in transaction')`,
      [databaseName(databaseUrl), `${opts.applicationPrefix ?? "correo-"}%`, opts.onlyIdleInTransaction ?? false],
    );
    return rows[0]!.n;
  });
}

/**
 * Keeps terminating backends that sit idle in a transaction, as a PostgreSQL restart
 * does to whatever is open, until `hits` were terminated or `timeoutMs` passed. One
 * admin connection polls; returns how many it terminated.
 */
export async function terminateIdleInTransaction(databaseUrl: string, hits: number, timeoutMs: number): Promise<number> {
  return admin(databaseUrl, async (client) => {
    const deadline = Date.now() + timeoutMs;
    let done = 0;
    while (done < hits && Date.now() < deadline) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name LIKE 'correo-%' AND state = 'idle in transaction'`,
        [databaseName(databaseUrl)],
      );
      done += rows[0]!.n;
    }
    return done;
  });
}

/** ALTER DATABASE … ALLOW_CONNECTIONS: with false, its clients cannot reconnect (PostgreSQL down, for this database only). */
export async function allowConnections(databaseUrl: string, allow: boolean): Promise<void> {
  await admin(databaseUrl, (client) =>
    client.query(`ALTER DATABASE ${quoteIdent(databaseName(databaseUrl))} WITH ALLOW_CONNECTIONS ${allow ? "true" : "false"}`),
  );
}

/** CLIENT KILL of the Redis connections whose CLIENT SETNAME matches `name`; returns how many. */
export async function killRedisClients(redisUrl: string, name: (clientName: string) => boolean): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    const list = (await redis.client("LIST")) as string;
    let killed = 0;
    for (const line of list.split("\n")) {
      const fields = Object.fromEntries(line.trim().split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      if (fields.id && fields.name && name(fields.name)) {
        killed += Number(await redis.client("KILL", "ID", fields.id));
      }
    }
    return killed;
  } finally {
    redis.disconnect();
  }
}

/**
 * `rabbitmqctl close_connection` (RabbitMQ sends connection.close 320 CONNECTION_FORCED,
 * as on a broker shutdown) for the connections whose client-provided name matches.
 */
export async function closeAmqpConnections(name: (connectionName: string) => boolean): Promise<number> {
  const { stdout } = await run("rabbitmqctl", ["-q", "list_connections", "pid", "client_properties"], { timeout: 60_000 });
  const pids: string[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(<[^>]+>)\t.*\{"connection_name","([^"]*)"\}/.exec(line);
    if (m && name(m[2]!)) pids.push(m[1]!);
  }
  for (const pid of pids) await run("rabbitmqctl", ["-q", "close_connection", pid, "closed by a Correo test"], { timeout: 60_000 });
  return pids.length;
}
