/** ENABLE arguments (RFC 5161 §3): one or more capability names, atoms. Pure: tokens in, the names in upper case or an ArgumentError (BAD) out. */
import type { Token } from "../parser.js";
import { ArgumentError } from "./arguments.js";

export function parseEnable(args: readonly Token[]): string[] {
  if (args.length === 0) throw new ArgumentError("ENABLE needs at least one capability");
  return args.map((a) => {
    if (a.type !== "atom") throw new ArgumentError("capabilities are atoms");
    return a.value.toUpperCase();
  });
}
