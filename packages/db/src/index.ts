export {
  createPool,
  withTransaction,
  ensureDatabase,
  quoteIdent,
  type Pool,
  type PoolClient,
  type Queryable,
} from "./pool.js";
export { migrate, loadMigrations, migrationsDir, type Migration } from "./migrate.js";
