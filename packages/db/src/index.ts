export {
  createPool,
  createClient,
  withTransaction,
  ensureDatabase,
  quoteIdent,
  type Pool,
  type PoolClient,
  type Client,
  type Queryable,
} from "./pool.js";
export { migrate, loadMigrations, migrationsDir, type Migration } from "./migrate.js";
