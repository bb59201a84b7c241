import type { FastifyReply } from "fastify";
import { DirectoryError } from "@correo/directory";
import { sendProblem, type Problem } from "../problem.js";

/** Directory input names (camelCase) → the request field that carried them. */
export type FieldMap = Record<string, string>;

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Runs a directory operation; a refusal becomes problem+json naming the field at
 * fault: 409 for a duplicate, 404 for an unknown name, 400 for an invalid value. The
 * field is the one the directory names (mapped by `fields`, else `body.<snake_case>`),
 * or `fallback`. Anything else is rethrown (500).
 */
export async function directoryCall<T>(
  reply: FastifyReply,
  fallback: string,
  op: () => Promise<T>,
  fields: FieldMap = {},
): Promise<{ ok: true; value: T } | { ok: false; reply: FastifyReply }> {
  try {
    return { ok: true, value: await op() };
  } catch (err) {
    if (!(err instanceof DirectoryError)) throw err;
    const status = err.code === "duplicate" ? 409 : err.code === "not_found" ? 404 : 400;
    const title = err.code === "duplicate" ? "Conflict" : err.code === "not_found" ? "Not Found" : "Invalid request";
    const field = err.field === undefined ? fallback : (fields[err.field] ?? `body.${snake(err.field)}`);
    const problem: Problem = { title, status, detail: err.message, errors: [{ field, message: err.message }] };
    return { ok: false, reply: sendProblem(reply, problem) };
  }
}
