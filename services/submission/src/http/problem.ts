import type { FastifyReply } from "fastify";

/** RFC 9457 problem details; `errors` names each field at fault. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type("application/problem+json")
    .send({ type: problem.type ?? "about:blank", ...problem });
}

export const problems = {
  unauthenticated: (detail: string): Problem => ({ title: "Unauthorized", status: 401, detail }),
  forbidden: (detail: string, field?: string): Problem => ({
    title: "Forbidden",
    status: 403,
    detail,
    ...(field ? { errors: [{ field, message: detail }] } : {}),
  }),
  invalid: (errors: { field: string; message: string }[]): Problem => ({
    title: "Invalid request",
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    errors,
  }),
  tooLarge: (detail: string): Problem => ({ title: "Payload Too Large", status: 413, detail }),
  notFound: (detail: string): Problem => ({ title: "Not Found", status: 404, detail }),
  unavailable: (detail: string): Problem => ({ title: "Service Unavailable", status: 503, detail }),
  // draft-ietf-httpapi-idempotency-key-header §2.7: a reused key with another payload is 422.
  idempotencyMismatch: (): Problem => ({
    title: "Unprocessable Content",
    status: 422,
    detail: "this Idempotency-Key was used with a different request in the last 24 hours",
    errors: [{ field: "headers.idempotency-key", message: "was used with a different request body" }],
  }),
};
