/**
 * QUOTA arguments (RFC 9208 §4.1): GETQUOTA quota-root, GETQUOTAROOT mailbox, SETQUOTA
 * quota-root (resource limits). Pure: tokens in, the root or the mailbox as sent out, or
 * an ArgumentError (BAD).
 */
import type { Token } from "../parser.js";
import { ArgumentError, astring, mailboxArg } from "./arguments.js";

/** §4.1.1 */
export function parseGetquota(args: readonly Token[]): { root: string } {
  if (args.length !== 1) throw new ArgumentError("GETQUOTA takes a quota root");
  return { root: astring(args[0], "the quota root") };
}

/** §4.1.2 */
export function parseGetquotaroot(args: readonly Token[]): { mailbox: string } {
  if (args.length !== 1) throw new ArgumentError("GETQUOTAROOT takes a mailbox name");
  return { mailbox: mailboxArg(args[0]) };
}

/** §4.1.3: the limits are not read; Correo refuses SETQUOTA whatever they are. */
export function parseSetquota(args: readonly Token[]): void {
  if (args.length !== 2 || args[1]!.type !== "list") throw new ArgumentError("SETQUOTA takes a quota root and a list of resource limits");
}
