import { startTestServers } from "./servers.js";

/**
 * Vitest global setup: finds the servers once for the whole run and hands their URLs
 * to every test worker through the environment.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const { urls, stop } = await startTestServers();
  process.env.AMQP_URL = urls.amqpUrl;
  process.env.DATABASE_URL = urls.databaseUrl;
  process.env.REDIS_URL = urls.redisUrl;
  process.stderr.write(`correo tests: servers from ${urls.source}\n`);
  return stop;
}
