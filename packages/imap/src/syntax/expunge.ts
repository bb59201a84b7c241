/**
 * EXPUNGE (RFC 3501 §6.4.3) takes nothing; UID EXPUNGE (RFC 4315 §2.1) one UID set (or
 * RFC 5182's `$`). Pure: tokens in, the set (none for EXPUNGE) or an ArgumentError (BAD) out.
 */
import type { Token } from "../parser.js";
import { ArgumentError, setArgument, type SetArgument } from "./arguments.js";

export function parseExpunge(args: readonly Token[], uid: boolean): { uids?: SetArgument } {
  if (!uid) {
    if (args.length) throw new ArgumentError("EXPUNGE takes no arguments");
    return {};
  }
  const uids = setArgument(args[0]);
  if (!uids || args.length !== 1) throw new ArgumentError("UID EXPUNGE takes a UID set");
  return { uids };
}
