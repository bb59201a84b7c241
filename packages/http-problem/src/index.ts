export { sendProblem, problems, OPENAPI_VERSION, problemJsonSchema, type Problem, type FieldError } from "./problem.js";
export { fieldErrors, frameworkProblems, useProblemErrors } from "./error-handler.js";
export { isDependencyUnavailable } from "./unavailable.js";
