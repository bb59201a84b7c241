import { atom } from "../encoder.js";
import type { CommandHandler } from "../session.js";

const ENABLEABLE = new Set(["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"]);

/** RFC 5161: enables what it knows, ignores the rest. */
export const enable: CommandHandler = async ({ session, args }) => {
  if (args.length === 0) return { status: "BAD", text: "ENABLE needs at least one capability" };
  const done: string[] = [];
  for (const a of args) {
    if (a.type !== "atom") return { status: "BAD", text: "capabilities are atoms" };
    const cap = a.value.toUpperCase();
    if (!ENABLEABLE.has(cap) || session.enabled.has(cap)) continue;
    session.enabled.add(cap);
    // RFC 7162 §3.2.3: enabling QRESYNC enables CONDSTORE as well.
    if (cap === "CONDSTORE" || cap === "QRESYNC") session.condstore = true;
    done.push(cap);
  }
  await session.send([atom("ENABLED"), ...done.map(atom)]);
  return { status: "OK", text: "ENABLE completed" };
};
