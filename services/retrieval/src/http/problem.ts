import { problems as common, type Problem } from "@correo/http-problem";

export { sendProblem, type Problem } from "@correo/http-problem";

/** The mailbox API's problems: the common ones, a 401 always naming the Authorization header. */
export const problems = {
  ...common,
  unauthenticated: (detail: string): Problem => common.unauthenticated(detail, "header.authorization"),
};
