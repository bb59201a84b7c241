import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyError } from "fastify";
import type { Logger } from "@correo/telemetry";
import { problems, sendProblem } from "./problem.js";
import { messagesRoutes, type MessagesRouteOptions } from "./messages-route.js";
import { registerOpenApi } from "./openapi.js";

export interface HttpApiOptions extends MessagesRouteOptions {
  logger: Logger;
}

/** The HTTP submission API. Every error is application/problem+json. */
export function buildHttpApi(opts: HttpApiOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Base64 inflates attachments by 4/3; the composed message is checked against the exact limit.
    bodyLimit: Math.ceil(opts.maxMessageSize * 1.4) + 64 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: false } },
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      const where = err.validationContext ?? "body";
      return sendProblem(
        reply,
        problems.invalid(
          err.validation.map((v) => {
            const path = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
            const extra = (v.params as { additionalProperty?: string }).additionalProperty;
            const field = [where, path, extra].filter(Boolean).join(".");
            return { field, message: extra ? "is not a known field" : (v.message ?? "is invalid") };
          }),
        ),
      );
    }
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendProblem(reply, problems.tooLarge(err.message));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(reply, { title: err.name, status: err.statusCode, detail: err.message });
    }
    req.log.error({ err }, "request failed");
    return sendProblem(reply, { title: "Internal Server Error", status: 500, detail: "the request failed; nothing was accepted" });
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, problems.notFound(`no route ${req.method} ${req.url}`)),
  );
  // First: @fastify/swagger collects the routes registered after it.
  registerOpenApi(app);
  // Registered as an encapsulated plugin: its auth hook covers its routes only.
  void app.register(messagesRoutes, opts);
  void app.register(import("./admin/index.js").then((m) => ({ default: m.adminApi })), { pool: opts.pool }); // the admin API (/v1/admin/…)
  return app;
}
