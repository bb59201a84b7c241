import type { FastifyReply } from "fastify";

/** RFC 9457 problem details, the only error shape of Correo's HTTP APIs; `errors` names each field at fault. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

export interface FieldError {
  /** Where: `body.to[1]`, `querystring.limit`, `header.authorization`, … */
  field: string;
  message: string;
}

/**
 * The OpenAPI version both HTTP APIs (submission with its admin API, and retrieval's
 * mailbox API) publish: 3.1, whose schemas are JSON Schema 2020-12 and so admit the
 * `{"type": "null"}` that nullable fields are written with.
 */
export const OPENAPI_VERSION = "3.1.0";

/** RFC 9457 problem details as a JSON Schema, for OpenAPI documents and response serialisation. */
export const problemJsonSchema = {
  type: "object",
  description: "RFC 9457 problem details; `errors` names each field at fault",
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } }, required: ["field", "message"] },
    },
  },
  required: ["type", "title", "status"],
} as const;

/** RFC 9110 §10.2.3: how long a client should wait before it tries a 503 again, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  // Every 503 is temporary (a server Correo depends on is away): say when to try again.
  if (problem.status === 503) reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  return reply
    .code(problem.status)
    .type("application/problem+json")
    .send({ type: problem.type ?? "about:blank", ...problem });
}

const withField = (field: string | undefined, detail: string) => (field ? { errors: [{ field, message: detail }] } : {});

/** The problems both APIs answer with; each may name the field at fault. */
export const problems = {
  unauthenticated: (detail: string, field?: string): Problem => ({ title: "Unauthorized", status: 401, detail, ...withField(field, detail) }),
  forbidden: (detail: string, field?: string): Problem => ({ title: "Forbidden", status: 403, detail, ...withField(field, detail) }),
  invalid: (errors: FieldError[]): Problem => ({
    title: "Invalid request",
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    errors,
  }),
  notFound: (detail: string, field?: string): Problem => ({ title: "Not Found", status: 404, detail, ...withField(field, detail) }),
  notAcceptable: (detail: string, field?: string): Problem => ({ title: "Not Acceptable", status: 406, detail, ...withField(field, detail) }),
  conflict: (detail: string, field?: string): Problem => ({ title: "Conflict", status: 409, detail, ...withField(field, detail) }),
  tooManyRequests: (detail: string): Problem => ({ title: "Too Many Requests", status: 429, detail }),
  tooLarge: (detail: string): Problem => ({ title: "Payload Too Large", status: 413, detail }),
  insufficientStorage: (detail: string, field?: string): Problem => ({
    title: "Insufficient Storage",
    status: 507,
    detail,
    ...withField(field, detail),
  }),
  unavailable: (detail: string): Problem => ({ title: "Service Unavailable", status: 503, detail }),
};
