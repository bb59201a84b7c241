import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { SORT_KEYS, sortMessages, type SortCriterion, type SortKeyName } from "../sort.js";
import { astring } from "../syntax/arguments.js";
import { esearchItems, parseReturnOptions } from "./search.js";
import { criteriaOf, inputsFor } from "./sort-input.js";

/**
 * RFC 5256 §3 SORT / UID SORT (with RFC 5957's DISPLAYFROM, DISPLAYTO): sort-criteria, charset
 * (UTF-8, US-ASCII), search criteria as SEARCH. RFC 5267 §3 ESORT: `RETURN (...)` first answers
 * with ESEARCH (MIN, MAX, ALL in sort order, COUNT, PARTIAL), and UPDATE keeps a sorted context (§4).
 */
export const sort: CommandHandler = async ({ session, args, uid, tag }) => {
  const returning = parseReturnOptions(args, "SORT");
  const [list, charsetToken, ...rest] = returning ? returning.rest : args;
  if (list?.type !== "list" || list.items.length === 0) return { status: "BAD", text: "SORT needs a parenthesized list of sort criteria" };
  const criteria: SortCriterion[] = [];
  for (let i = 0; i < list.items.length; i++) {
    const t = list.items[i]!;
    if (t.type !== "atom") return { status: "BAD", text: "SORT: a sort criterion must be an atom" };
    const name = t.value.toUpperCase();
    if (name === "REVERSE") {
      const next = list.items[++i];
      const key = next?.type === "atom" ? next.value.toUpperCase() : "";
      if (!SORT_KEYS.has(key)) return { status: "BAD", text: "SORT: REVERSE must be followed by a sort key" };
      criteria.push({ key: key as SortKeyName, reverse: true });
    } else if (SORT_KEYS.has(name)) criteria.push({ key: name as SortKeyName, reverse: false });
    else return { status: "BAD", text: `SORT: unknown sort key ${t.value}` };
  }
  const charset = astring(charsetToken, "the SORT charset").toUpperCase();
  if (rest.length === 0) return { status: "BAD", text: "SORT needs search criteria" };
  if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
  const { criteria: search, usesModseq } = criteriaOf(session, rest);
  const { inputs, modseqs } = await inputsFor(session, search, false);
  const sorted = sortMessages(inputs, criteria);
  if (returning) {
    const modseqOf = new Map(inputs.map((m, i) => [m.uid, modseqs[i]!]));
    const numbers = sorted.map((m) => (uid ? m.uid : m.seq));
    const items = esearchItems(returning.options, numbers, usesModseq ? (i) => modseqOf.get(sorted[i]!.uid) ?? 0 : undefined, returning.partial);
    await session.send([atom("ESEARCH"), [atom("TAG"), tag], ...(uid ? [atom("UID")] : []), ...items]);
    if (returning.update) session.selected!.contexts.set(tag, { tag, uid, criteria: search, sort: criteria, result: sorted.map((m) => m.uid) });
    return { status: "OK", text: `${uid ? "UID " : ""}SORT completed` };
  }
  const out = [atom("SORT"), ...sorted.map((m) => (uid ? m.uid : m.seq))];
  if (usesModseq && modseqs.length) out.push([atom("MODSEQ"), Math.max(...modseqs)] as never);
  await session.send(out);
  return { status: "OK", text: `${uid ? "UID " : ""}SORT completed` };
};
