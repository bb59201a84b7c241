import { problems as common, type Problem } from "@correo/http-problem";

export { sendProblem, type Problem } from "@correo/http-problem";

/** The submission API's problems: the common ones plus its own. */
export const problems = {
  ...common,
  // draft-ietf-httpapi-idempotency-key-header §2.7: a reused key with another payload is 422.
  idempotencyMismatch: (): Problem => ({
    title: "Unprocessable Content",
    status: 422,
    detail: "this Idempotency-Key was used with a different request in the last 24 hours",
    errors: [{ field: "headers.idempotency-key", message: "was used with a different request body" }],
  }),
};
