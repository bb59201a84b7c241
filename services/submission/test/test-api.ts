import type { FastifyInstance } from "fastify";
import type { Pool } from "@correo/db";
import { Broker, DeadLetterQueue } from "@correo/broker";
import { Outbox, systemClock } from "@correo/spool";
import type { Logger } from "@correo/telemetry";
import { buildHttpApi } from "../src/http/app.js";

/**
 * The real HTTP API (submission and admin routes) on a test's own database and broker
 * prefix, with the limits most tests use; `amqpUrl` also serves the dead-letter routes
 * (a closed port makes them answer 503).
 */
export function testHttpApi(opts: {
  logger: Logger;
  pool: Pool;
  broker: Broker;
  amqpUrl: string;
  prefix: string;
  webhooks?: { allowHttp: boolean; testTimeoutMs: number };
}): FastifyInstance {
  return buildHttpApi({
    logger: opts.logger,
    pool: opts.pool,
    outbox: new Outbox(opts.pool, opts.broker, opts.logger),
    clock: systemClock,
    hostname: "mx.correo.test",
    maxMessageSize: 1024 * 1024,
    maxRecipients: 100,
    redriveAfterMs: 120_000,
    deadLetters: new DeadLetterQueue({ url: opts.amqpUrl, prefix: opts.prefix }),
    ...(opts.webhooks ? { webhooks: opts.webhooks } : {}),
  });
}
