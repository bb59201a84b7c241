/**
 * The HTTP mailbox API (retrieval, RETRIEVAL_HTTP_PORT): folders and messages of the
 * authenticated account for web and app clients, and its tokens. Every error is
 * application/problem+json naming the field at fault; the OpenAPI document is at
 * /openapi.json and browsable at /docs.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { AuthCache } from "@correo/directory";
import type { LoginThrottle } from "@correo/login-throttle";
import type { MailStore } from "@correo/mailstore";
import type { Logger } from "@correo/telemetry";
import { foldersRoutes } from "./folders-route.js";
import { frameworkProblems, OPENAPI_VERSION, useProblemErrors } from "@correo/http-problem";
import { tokensRoutes } from "./tokens-route.js";

export interface MailboxApiOptions {
  logger: Logger;
  store: MailStore;
  /** Failed Basic logins per client address and account (Redis, shared with SMTP, IMAP and POP3). */
  logins?: LoginThrottle;
  /** Basic logins verified a moment ago (AUTH_CACHE_TTL), shared with IMAP and POP3. */
  authCache?: AuthCache;
}

export async function buildMailboxApi(opts: MailboxApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // A URL that cannot be decoded (%FF) is a 400 problem like every other bad request.
    frameworkErrors: frameworkProblems,
    bodyLimit: 64 * 1024,
    // Path and query values arrive as text and are coerced to the schema's types; nothing unknown is dropped silently.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: true, useDefaults: true, verbose: true } },
  });

  useProblemErrors(app, { title: "Service Unavailable", status: 503, detail: "the request failed; try again" });

  await app.register(swagger, {
    openapi: {
      openapi: OPENAPI_VERSION,
      info: {
        title: "Correo mailbox API",
        version: "1",
        description: "Read and manage an account's mail: folders, messages (newest first), parsed or raw, flags, move, delete.",
      },
      components: {
        securitySchemes: {
          basicAuth: { type: "http", scheme: "basic", description: "the account's address and password" },
          bearerAuth: { type: "http", scheme: "bearer", description: "a token from POST /v1/tokens" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  // Encapsulated plugins: each one's auth hook covers its own routes only.
  await app.register(foldersRoutes, { store: opts.store, logins: opts.logins, authCache: opts.authCache });
  await app.register(tokensRoutes, { pool: opts.store.pool, logins: opts.logins, authCache: opts.authCache });
  return app;
}
