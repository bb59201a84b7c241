/**
 * SORT / UID SORT arguments (RFC 5256 §3, RFC 5957 DISPLAYFROM / DISPLAYTO): RFC 5267 §3
 * ESORT's `RETURN (...)`, the parenthesized sort criteria, the charset and search keys as
 * SEARCH takes them. Pure: tokens in, a SortRequest or an ArgumentError out.
 */
import type { Token } from "../parser.js";
import { SORT_KEYS, type SortCriterion, type SortKeyName } from "../sort.js";
import { ArgumentError, astring } from "./arguments.js";
import { checkCharset, parseReturnOptions, parseSearchKeys, type ReturnRequest, type SearchSyntax } from "./search.js";

export interface SortRequest {
  returning?: ReturnRequest;
  criteria: SortCriterion[];
  keys: SearchSyntax[];
}

/** `rev2`: as for SEARCH, IMAP4rev2 has no RECENT, NEW or OLD. */
export function parseSort(args: Token[], opts: { rev2: boolean }): SortRequest {
  const returning = parseReturnOptions(args, "SORT");
  const [list, charsetToken, ...rest] = returning ? returning.rest : args;
  if (list?.type !== "list" || list.items.length === 0) throw new ArgumentError("SORT needs a parenthesized list of sort criteria");
  const criteria: SortCriterion[] = [];
  for (let i = 0; i < list.items.length; i++) {
    const t = list.items[i]!;
    if (t.type !== "atom") throw new ArgumentError("SORT: a sort criterion must be an atom");
    const name = t.value.toUpperCase();
    if (name === "REVERSE") {
      const next = list.items[++i];
      const key = next?.type === "atom" ? next.value.toUpperCase() : "";
      if (!SORT_KEYS.has(key)) throw new ArgumentError("SORT: REVERSE must be followed by a sort key");
      criteria.push({ key: key as SortKeyName, reverse: true });
    } else if (SORT_KEYS.has(name)) criteria.push({ key: name as SortKeyName, reverse: false });
    else throw new ArgumentError(`SORT: unknown sort key ${t.value}`);
  }
  const charset = astring(charsetToken, "the SORT charset").toUpperCase();
  if (rest.length === 0) throw new ArgumentError("SORT needs search criteria");
  checkCharset(charset);
  return { ...(returning ? { returning } : {}), criteria, keys: parseSearchKeys(rest, opts) };
}
