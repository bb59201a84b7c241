import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** One connection of its own, outside any pool (a LISTEN connection). */
export type Client = pg.Client;
/** Anything queries can run on: the pool or one client inside a transaction. */
export type Queryable = Pick<pg.Pool, "query">;

// BIGINT (int8) columns come back as strings by default; ours (ids, sizes, modseqs)
// stay far below 2^53, so numbers are safe and simpler.
pg.types.setTypeParser(20, (v) => Number(v));

export interface PoolOptions {
  /** Told about connections lost under the pool (PostgreSQL restarted, a backend terminated). */
  onConnectionError?: (err: Error) => void;
  /** Shown in pg_stat_activity.application_name. */
  applicationName?: string;
  /**
   * Every connection plans each prepared statement once (plan_cache_mode =
   * force_generic_plan) instead of PostgreSQL's default of re-planning one whose generic
   * plan looks dearer: for a pool whose statements all look rows up by id.
   */
  genericPlans?: boolean;
  /**
   * Commits do not wait for the WAL to reach the disk (synchronous_commit = off): a crash
   * may lose the last few hundred milliseconds of committed transactions, never part of
   * one. Only for a pool whose writes can be done again from what is durable elsewhere
   * (relay-queue's webhook state, rebuilt from the timeline); never for mail.
   */
  asyncCommit?: boolean;
}

export function createPool(databaseUrl: string, max = 10, opts: PoolOptions = {}): pg.Pool {
  const settings = [
    ...(opts.genericPlans ? ["-c plan_cache_mode=force_generic_plan"] : []),
    ...(opts.asyncCommit ? ["-c synchronous_commit=off"] : []),
  ];
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5000,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
    ...(settings.length ? { options: settings.join(" ") } : {}),
  });
  const lost = opts.onConnectionError ?? (() => undefined);
  // An idle client losing its connection must not crash the process; the next query
  // reconnects (the client's own listener below reports it).
  pool.on("error", () => undefined);
  // Nor may a checked-out one. pg-pool listens for errors only while a client is idle
  // (or inside pool.query): a client held by withTransaction, between two of its
  // queries, gets "57P01 terminating connection due to administrator command" or
  // "Connection terminated unexpectedly" as an 'error' event with no listener, which
  // ends the process. With this listener the client is merely broken: its next query
  // fails (the transaction rolls back, the consumer redelivers) and the pool drops it
  // on release.
  pool.on("connect", (client) => client.on("error", lost));
  return pool;
}

/** A connection outside the pool, not yet connected: for LISTEN, which holds its connection for good. */
export function createClient(databaseUrl: string, opts: { applicationName?: string } = {}): pg.Client {
  return new pg.Client({
    connectionString: databaseUrl,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
  });
}

/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Creates the database named in `databaseUrl` when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!name) throw new Error("DATABASE_URL names no database");
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined); // a failure shows in the query's rejection
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((err: { code?: string }) => {
        // A concurrent starter created it first: 42P04 (duplicate_database), or 23505 when
        // both passed the existence check and raced on pg_database's unique index.
        if (err.code !== "42P04" && err.code !== "23505") throw err;
      });
    }
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
