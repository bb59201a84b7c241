/**
 * Arguments of the commands that name mailboxes (RFC 3501 §6.3.3–§6.3.7): CREATE (with
 * RFC 4466 / RFC 6154 parameters, syntax/create.ts), DELETE, RENAME, SUBSCRIBE and
 * UNSUBSCRIBE. Pure: tokens in, the names as sent out (the command decodes them), or an
 * ArgumentError (BAD) or CreateParamError.
 */
import type { Token } from "../parser.js";
import { ArgumentError, mailboxArg } from "./arguments.js";
import { parseCreateParams, type CreateParams } from "./create.js";

export function parseCreate(args: readonly Token[]): { mailbox: string } & CreateParams {
  if (args.length < 1) throw new ArgumentError("CREATE takes a mailbox name");
  const params = parseCreateParams(args[1], args.slice(2));
  return { mailbox: mailboxArg(args[0]), ...params };
}

export function parseDelete(args: readonly Token[]): { mailbox: string } {
  if (args.length !== 1) throw new ArgumentError("DELETE takes a mailbox name");
  return { mailbox: mailboxArg(args[0]) };
}

export function parseRename(args: readonly Token[]): { from: string; to: string } {
  if (args.length !== 2) throw new ArgumentError("RENAME takes two mailbox names");
  return { from: mailboxArg(args[0]), to: mailboxArg(args[1]) };
}

/** `command`: SUBSCRIBE or UNSUBSCRIBE, as the refusal names it. */
export function parseSubscribe(args: readonly Token[], command: string): { mailbox: string } {
  if (args.length !== 1) throw new ArgumentError(`${command} takes a mailbox name`);
  return { mailbox: mailboxArg(args[0]) };
}
