import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { createPool, type Pool } from "@correo/db";
import { OPENAPI_VERSION } from "@correo/http-problem";
import { MailStore } from "@correo/mailstore";
import { createLogger } from "@correo/telemetry";
import { buildMailboxApi } from "../src/http/app.js";

/** The mailbox API's OpenAPI document has the version the submission (and admin) API publishes too. */
let pool: Pool;
let app: FastifyInstance;

beforeAll(async () => {
  pool = createPool("postgres://postgres@127.0.0.1:1/correo_openapi");
  app = await buildMailboxApi({ logger: createLogger("test", "silent"), store: new MailStore({ pool }) });
});
afterAll(async () => {
  await app.close();
  await pool.end();
});

describe("OpenAPI: the mailbox API", () => {
  it("publishes the OpenAPI version both APIs share", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    expect(doc.openapi).toBe(OPENAPI_VERSION);
  });
});
