import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problems, sendProblem, type FieldError, type Problem } from "./problem.js";
import { isDependencyUnavailable } from "./unavailable.js";

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: unknown;
  parentSchema?: { description?: string };
}

/**
 * Schema validation errors as fields a client can act on: `body.to[0]`-style paths,
 * "is not a known field", "is required", and, for a pattern, the schema's description
 * (a regular expression tells a client little).
 */
export function fieldErrors(where: string, errors: readonly AjvError[]): FieldError[] {
  return errors.map((v) => {
    const path = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
    const params = v.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown[] };
    const extra = params.additionalProperty ?? params.missingProperty;
    const field = [where, path, extra].filter(Boolean).join(".");
    const described = v.parentSchema?.description;
    const message = params.additionalProperty
      ? "is not a known field"
      : params.missingProperty
        ? "is required"
        : v.keyword === "pattern" && described
          ? `must be ${described}`
          : v.keyword === "enum" && params.allowedValues
            ? `must be one of ${params.allowedValues.map((a) => JSON.stringify(a)).join(", ")}`
            : (v.message ?? "is invalid");
    return { field, message };
  });
}

/**
 * Makes every error of `app` application/problem+json: validation (400 naming the
 * fields), an empty or non-JSON body, an oversized body (413), other client errors as
 * fastify reports them, unknown routes (404), a server Correo depends on being
 * unreachable (503 with Retry-After: nothing was done, try again), and anything else
 * as `onFailure` (logged).
 */
export function useProblemErrors(app: FastifyInstance, onFailure: Problem): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      return sendProblem(reply, problems.invalid(fieldErrors(err.validationContext ?? "body", err.validation as AjvError[])));
    }
    switch (err.code) {
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return sendProblem(reply, problems.invalid([{ field: "body", message: "is empty; send a JSON object" }]));
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendProblem(reply, problems.invalid([{ field: "header.content-type", message: "must be application/json" }]));
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendProblem(reply, problems.tooLarge(err.message));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(reply, { title: err.name, status: err.statusCode, detail: err.message });
    }
    if (isDependencyUnavailable(err)) {
      req.log.warn({ err: err.message }, "request refused: a dependency is unreachable");
      return sendProblem(reply, problems.unavailable("a server Correo depends on is unreachable; nothing was changed, try again later"));
    }
    req.log.error({ err }, "request failed");
    return sendProblem(reply, onFailure);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problems.notFound(`no route ${req.method} ${req.url}`)));
}

/**
 * Fastify's `frameworkErrors` option (errors raised before any route or error handler
 * runs): a URL whose percent-encoding is not UTF-8 (`%FF`, FST_ERR_BAD_URL) is a 400
 * problem naming the URL, not fastify's own JSON.
 */
export function frameworkProblems(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  const message = err.code === "FST_ERR_BAD_URL" ? "is not a valid URL: a percent-encoded part is not UTF-8" : err.message;
  void sendProblem(reply, status === 400 ? problems.invalid([{ field: "url", message }]) : { title: err.name, status, detail: err.message });
}
