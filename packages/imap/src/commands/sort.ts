import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { sortMessages } from "../sort.js";
import { parseSort } from "../syntax/sort.js";
import { esearchItems } from "./search.js";
import { criteriaOf, inputsFor } from "./sort-input.js";

/**
 * RFC 5256 §3 SORT / UID SORT (with RFC 5957's DISPLAYFROM, DISPLAYTO): sort-criteria, charset
 * (UTF-8, US-ASCII), search criteria as SEARCH. RFC 5267 §3 ESORT: `RETURN (...)` first answers
 * with ESEARCH (MIN, MAX, ALL in sort order, COUNT, PARTIAL), and UPDATE keeps a sorted context (§4).
 */
export const sort: CommandHandler = async ({ session, args, uid, tag }) => {
  const { returning, criteria, keys } = parseSort(args, { rev2: session.rev2 });
  const { criteria: search, usesModseq } = criteriaOf(session, keys);
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
