import amqp from "amqplib";
import { createPool, ensureDatabase, migrate } from "@correo/db";
import { Broker, topology } from "@correo/broker";
import { probeInfra, redact } from "@correo/runtime";

export interface InfraUrls {
  amqpUrl: string;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
}

/**
 * Checks the three servers, migrates the database and declares the broker topology.
 * Returns false (after saying which server is down and how to start it) when one is unreachable.
 */
export async function prepareInfra(urls: InfraUrls, say: (line: string) => void): Promise<boolean> {
  const down = await probeInfra(urls);
  if (down.length > 0) {
    for (const err of down) say(`✗ ${err.message}`);
    return false;
  }
  await ensureDatabase(urls.databaseUrl);
  const pool = createPool(urls.databaseUrl, 1);
  try {
    const applied = await migrate(pool);
    say(`✓ PostgreSQL ${redact(urls.databaseUrl)}: ${applied.length ? `applied migrations ${applied.join(", ")}` : "schema up to date"}`);
  } finally {
    await pool.end();
  }
  const conn = await amqp.connect(urls.amqpUrl);
  try {
    const ch = await conn.createChannel();
    const t = topology(urls.prefix);
    await Broker.declare(ch, t);
    say(`✓ RabbitMQ ${redact(urls.amqpUrl)}: exchange ${t.exchange}, queues ${Object.values(t.queues).map((q) => q.name).join(", ")}`);
  } finally {
    await conn.close();
  }
  say(`✓ Redis ${redact(urls.redisUrl)}`);
  return true;
}
