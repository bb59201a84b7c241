import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { createPool, type Pool } from "@correo/db";
import { createLogger } from "@correo/telemetry";
import type { FastifyInstance } from "fastify";
import { testHttpApi } from "./test-api.js";

/**
 * README: with PostgreSQL unreachable, the HTTP API answers 503 with Retry-After
 * (problem+json, nothing kept), never 500. The pool points at a real port where
 * nothing listens: every connection attempt is refused by the kernel.
 */
const log = createLogger("test", "silent");
let closedPort: number;
let pool: Pool;
let app: FastifyInstance;

beforeAll(async () => {
  // A port that was just free and is now closed again: connections to it are refused.
  const probe: Server = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  pool = createPool(`postgres://postgres@127.0.0.1:${closedPort}/correo_unreachable`);
  const broker = new Broker({ url: "amqp://guest:guest@127.0.0.1:1", prefix: "t_unreachable", logger: log });
  app = testHttpApi({ logger: log, pool, broker, amqpUrl: "amqp://guest:guest@127.0.0.1:1", prefix: "t_unreachable" });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await pool.end();
});

// Well formed, so that checking it needs the database.
const key = { authorization: `Bearer correo_${"0123456789abcdef"}_${"A".repeat(43)}` };

describe("PostgreSQL unreachable", () => {
  it.each([
    ["POST", "/v1/messages", { from: "ana@example.test", to: "bob@example.test", subject: "s", text: "t" }],
    ["POST", "/v1/messages/raw", { from: "ana@example.test", to: ["bob@example.test"], message: "Subject: s\r\n\r\nt\r\n" }],
    ["GET", "/v1/messages", undefined],
    ["GET", "/v1/messages/00000000-0000-4000-8000-000000000000", undefined],
  ] as const)("%s %s answers 503 problem+json with Retry-After, not 500", async (method, url, body) => {
    const res = await app.inject({ method, url, headers: { ...key, ...(body ? { "content-type": "application/json" } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    expect(res.statusCode).toBe(503);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    expect(res.json()).toMatchObject({ status: 503, title: "Service Unavailable" });
  });
});
