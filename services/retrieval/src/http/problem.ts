/** RFC 9457 problem details, the only error shape of the mailbox API; `errors` names each field at fault. */
import type { FastifyReply } from "fastify";

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

const withField = (field: string | undefined, detail: string) => (field ? { errors: [{ field, message: detail }] } : {});

export const problems = {
  unauthenticated: (detail: string): Problem => ({ title: "Unauthorized", status: 401, detail, ...withField("header.authorization", detail) }),
  invalid: (errors: { field: string; message: string }[]): Problem => ({
    title: "Invalid request",
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join("; "),
    errors,
  }),
  notFound: (detail: string, field?: string): Problem => ({ title: "Not Found", status: 404, detail, ...withField(field, detail) }),
  conflict: (detail: string, field?: string): Problem => ({ title: "Conflict", status: 409, detail, ...withField(field, detail) }),
  notAcceptable: (detail: string): Problem => ({ title: "Not Acceptable", status: 406, detail, ...withField("header.accept", detail) }),
  insufficientStorage: (detail: string, field?: string): Problem => ({ title: "Insufficient Storage", status: 507, detail, ...withField(field, detail) }),
  unavailable: (detail: string): Problem => ({ title: "Service Unavailable", status: 503, detail }),
};
