/** LOGIN arguments (RFC 3501 §6.2.3): a user name and a password, astrings. Pure: tokens in, the credentials or an ArgumentError (BAD) out. */
import type { Token } from "../parser.js";
import { ArgumentError, astring } from "./arguments.js";

export function parseLogin(args: readonly Token[]): { user: string; password: string } {
  if (args.length !== 2) throw new ArgumentError("LOGIN takes a user name and a password");
  return { user: astring(args[0], "the user name"), password: astring(args[1], "the password") };
}
