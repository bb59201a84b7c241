/** CANCELUPDATE arguments (RFC 5267 §4.3.5): the tags (correlators) of one or more contexts, astrings. Pure. */
import type { Token } from "../parser.js";
import { ArgumentError, astring } from "./arguments.js";

export function parseCancelupdate(args: readonly Token[]): string[] {
  if (args.length === 0) throw new ArgumentError("CANCELUPDATE needs the tag of at least one context");
  return args.map((t) => astring(t, "the context's tag"));
}
