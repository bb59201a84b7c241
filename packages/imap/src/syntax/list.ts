/**
 * LIST arguments (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258 §3) selection and return
 * options, LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154); LSUB (RFC 3501 §6.3.9)
 * takes only a reference and a pattern. Pure: tokens in, a ListRequest or an ArgumentError
 * (BAD) out; the reference and patterns as sent, for the command to decode.
 */
import type { Token } from "../parser.js";
import { ArgumentError, astring } from "./arguments.js";
import { statusItems } from "./status.js";

export interface ListRequest {
  reference: string;
  patterns: string[];
  /** Selection: SUBSCRIBED (or LSUB), SPECIAL-USE, RECURSIVEMATCH (RFC 5258 §3.1, RFC 6154 §5.2). */
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  recursive: boolean;
  /** Return options (RFC 5258 §3.2): \Subscribed, special-use attributes, RFC 5819 STATUS items. */
  returnSubscribed: boolean;
  returnSpecialUse: boolean;
  statusItems?: string[];
}

/** `command`: LIST or LSUB; `rev2` as for STATUS (no RECENT item). */
export function parseList(args: readonly Token[], opts: { command: "LIST" | "LSUB"; rev2: boolean }): ListRequest {
  const { command } = opts;
  let i = 0;
  let subscribedOnly = command === "LSUB";
  let specialUseOnly = false;
  let recursive = false;
  if (command === "LIST" && args[0]?.type === "list") {
    for (const opt of args[0].items) {
      const o = optionName(opt);
      if (o === "SUBSCRIBED") subscribedOnly = true;
      else if (o === "SPECIAL-USE") specialUseOnly = true;
      else if (o === "RECURSIVEMATCH") recursive = true;
      else if (o !== "REMOTE") throw new ArgumentError(`unknown LIST selection option ${o}`);
    }
    // RFC 5258 §3.1: RECURSIVEMATCH only refines another selection option (REMOTE does not count).
    if (recursive && !subscribedOnly && !specialUseOnly) throw new ArgumentError("RECURSIVEMATCH needs another selection option, such as SUBSCRIBED");
    i++;
  }
  const reference = astring(args[i], "the reference name");
  const patternToken = args[i + 1];
  if (!patternToken) throw new ArgumentError(`${command} takes a reference and a mailbox pattern`);
  const patterns = patternToken.type === "list" ? patternToken.items.map((t) => astring(t, "a pattern")) : [astring(patternToken, "the pattern")];
  let returnSubscribed = subscribedOnly && command === "LIST";
  let returnSpecialUse = true;
  let asked: string[] | undefined;
  const rest = args.slice(i + 2);
  if (rest.length) {
    if (command !== "LIST" || optionName(rest[0]) !== "RETURN" || rest[1]?.type !== "list" || rest.length !== 2) throw new ArgumentError("expected RETURN (options)");
    const options = rest[1].items;
    for (let k = 0; k < options.length; k++) {
      const o = optionName(options[k]);
      if (o === "SUBSCRIBED") returnSubscribed = true;
      else if (o === "SPECIAL-USE") returnSpecialUse = true;
      else if (o === "CHILDREN") continue;
      else if (o === "STATUS") asked = statusItems(options[++k], opts.rev2);
      else throw new ArgumentError(`unknown LIST return option ${o}`);
    }
  }
  return { reference, patterns, subscribedOnly, specialUseOnly, recursive, returnSubscribed, returnSpecialUse, ...(asked ? { statusItems: asked } : {}) };
}

function optionName(t: Token | undefined): string {
  if (!t || t.type !== "atom") throw new ArgumentError("expected an option name");
  return t.value.toUpperCase();
}
