import { atom } from "../encoder.js";
import type { CommandHandler } from "../command.js";
import { parseEnable } from "../syntax/enable.js";

/**
 * What ENABLE can switch on, upper case → as the ENABLED response names it. IMAP4rev2:
 * RFC 9051 Appendix E item 8, a client of a server that offers both versions asks for rev2
 * semantics with `ENABLE IMAP4rev2`.
 */
const ENABLEABLE = new Map([
  ["CONDSTORE", "CONDSTORE"],
  ["QRESYNC", "QRESYNC"],
  ["UTF8=ACCEPT", "UTF8=ACCEPT"],
  ["IMAP4REV2", "IMAP4rev2"],
]);

/** RFC 5161: enables what it knows, ignores the rest. */
export const enable: CommandHandler = async ({ session, args }) => {
  const done: string[] = [];
  for (const cap of parseEnable(args)) {
    const shown = ENABLEABLE.get(cap);
    if (!shown || session.enabled.has(cap)) continue;
    session.enabled.add(cap);
    // RFC 7162 §3.2.3: enabling QRESYNC enables CONDSTORE as well.
    if (cap === "CONDSTORE" || cap === "QRESYNC") session.condstore = true;
    done.push(shown);
  }
  await session.send([atom("ENABLED"), ...done.map(atom)]);
  return { status: "OK", text: "ENABLE completed" };
};
