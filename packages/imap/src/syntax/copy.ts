/**
 * COPY / MOVE and their UID forms (RFC 3501 §6.4.7, RFC 6851 §3): a sequence set and the
 * destination mailbox. Pure: tokens in, the set (or `$`) and the name as sent out, or an
 * ArgumentError (BAD); the command decodes the name.
 */
import type { Token } from "../parser.js";
import { ArgumentError, mailboxArg, setArgument, type SetArgument } from "./arguments.js";

export interface CopyRequest {
  set: SetArgument;
  mailbox: string;
}

/** `command`: COPY, MOVE, UID COPY or UID MOVE, as the refusal names it. */
export function parseCopy(args: readonly Token[], command: string): CopyRequest {
  if (args.length !== 2) throw new ArgumentError(`${command} takes a sequence set and a mailbox`);
  const set = setArgument(args[0]);
  if (!set) throw new ArgumentError("invalid sequence set");
  return { set, mailbox: mailboxArg(args[1]) };
}
