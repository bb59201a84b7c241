/**
 * The HTTP mailbox API (retrieval, RETRIEVAL_HTTP_PORT): folders and messages of the
 * authenticated account for web and app clients, and its tokens. Every error is
 * application/problem+json naming the field at fault; the OpenAPI document is at
 * /openapi.json and browsable at /docs.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { MailStore } from "@correo/mailstore";
import type { Logger } from "@correo/telemetry";
import { foldersRoutes } from "./folders-route.js";
import { problems, sendProblem } from "./problem.js";
import { tokensRoutes } from "./tokens-route.js";

export interface MailboxApiOptions {
  logger: Logger;
  store: MailStore;
}

export async function buildMailboxApi(opts: MailboxApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // Path and query values arrive as text and are coerced to the schema's types; nothing unknown is dropped silently.
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: true, useDefaults: true, verbose: true } },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? "body";
      return sendProblem(
        reply,
        problems.invalid(
          err.validation.map((v) => {
            const path = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
            const params = v.params as { additionalProperty?: string; missingProperty?: string };
            const extra = params.additionalProperty ?? params.missingProperty;
            const field = [where, path, extra].filter(Boolean).join(".");
            // A regular expression tells a client little; the schema's description says what is wanted.
            const described = (v as { parentSchema?: { description?: string } }).parentSchema?.description;
            const message = params.additionalProperty
              ? "is not a known field"
              : params.missingProperty
                ? "is required"
                : v.keyword === "pattern" && described
                  ? `must be ${described}`
                  : (v.message ?? "is invalid");
            return { field, message };
          }),
        ),
      );
    }
    if (err.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return sendProblem(reply, problems.invalid([{ field: "body", message: "is empty; send a JSON object" }]));
    if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return sendProblem(reply, problems.invalid([{ field: "header.content-type", message: "must be application/json" }]));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(reply, { title: err.name, status: err.statusCode, detail: err.message });
    }
    req.log.error({ err }, "request failed");
    return sendProblem(reply, problems.unavailable("the request failed; try again"));
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problems.notFound(`no route ${req.method} ${req.url}`)));

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
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
  await app.register(foldersRoutes, { store: opts.store });
  await app.register(tokensRoutes, { pool: opts.store.pool });
  return app;
}
