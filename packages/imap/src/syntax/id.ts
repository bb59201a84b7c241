/**
 * ID arguments (RFC 2971 §3.1): one parenthesized list of field-value pairs, or NIL. Correo
 * does not look at the client's fields, so only their number is checked. Pure.
 */
import type { Token } from "../parser.js";
import { ArgumentError } from "./arguments.js";

/** The client's field list (or NIL) as sent. */
export function parseId(args: readonly Token[]): Token {
  if (args.length !== 1) throw new ArgumentError("ID takes one list or NIL");
  return args[0]!;
}
