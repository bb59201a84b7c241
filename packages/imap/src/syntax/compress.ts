/** COMPRESS arguments (RFC 4978 §3): one mechanism, DEFLATE. Pure: tokens in, the mechanism or an ArgumentError (BAD) out. */
import type { Token } from "../parser.js";
import { ArgumentError } from "./arguments.js";

export function parseCompress(args: readonly Token[]): "DEFLATE" {
  if (args.length !== 1 || args[0]!.type !== "atom") throw new ArgumentError("COMPRESS takes one mechanism, DEFLATE");
  if (args[0]!.value.toUpperCase() !== "DEFLATE") throw new ArgumentError(`unknown compression mechanism ${args[0]!.value}`);
  return "DEFLATE";
}
