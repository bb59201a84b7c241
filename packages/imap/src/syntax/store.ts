/**
 * STORE / UID STORE arguments (RFC 3501 §6.4.6): sequence set, RFC 7162 §3.1.3's
 * `(UNCHANGEDSINCE modseq)`, the action (`[+|-]FLAGS[.SILENT]`) and the flags, as a list or
 * bare. Pure: tokens in, a StoreRequest or an ArgumentError (BAD) out.
 */
import type { Token } from "../parser.js";
import { ArgumentError, flagList, nz, setArgument, type SetArgument } from "./arguments.js";

export interface StoreRequest {
  set: SetArgument;
  unchangedSince?: number;
  /** FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  mode: "set" | "add" | "remove";
  /** .SILENT: no FETCH of the new flags. */
  silent: boolean;
  flags: string[];
}

export function parseStore(args: readonly Token[]): StoreRequest {
  const set = setArgument(args[0]);
  if (!set) throw new ArgumentError("invalid sequence set");
  let i = 1;
  let unchangedSince: number | undefined;
  if (args[1]?.type === "list") {
    const mods = args[1].items;
    if (mods[0]?.type !== "atom" || mods[0].value.toUpperCase() !== "UNCHANGEDSINCE") throw new ArgumentError("unknown STORE modifier");
    unchangedSince = nz(mods[1], "UNCHANGEDSINCE");
    i = 2;
  }
  const op = args[i]?.type === "atom" ? (args[i] as { value: string }).value.toUpperCase() : "";
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
  if (!m) throw new ArgumentError("expected FLAGS, +FLAGS or -FLAGS (optionally .SILENT)");
  const flags = flagList(args[i + 1]?.type === "list" ? args[i + 1] : { type: "list", items: args.slice(i + 1) });
  const mode = m[1] === "+" ? "add" : m[1] === "-" ? "remove" : "set";
  return { set, ...(unchangedSince !== undefined ? { unchangedSince } : {}), mode, silent: Boolean(m[2]), flags };
}
