/**
 * FETCH / UID FETCH arguments (RFC 3501 §6.4.5, §9 fetch-att): the sequence set, the data
 * items (macros, sections, RFC 3516 BINARY, RFC 8970 PREVIEW) and the modifiers of RFC
 * 7162 (CHANGEDSINCE §3.1.4, VANISHED §3.2.6). Pure: tokens in, a FetchRequest or an
 * ArgumentError (BAD) out. `$` (RFC 5182) is left for the command to resolve.
 */
import type { SectionSpec } from "../body-section.js";
import type { Token } from "../parser.js";
import { ArgumentError, nz, setArgument, type SetArgument } from "./arguments.js";

export type FetchItem =
  | { kind: "FLAGS" | "UID" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODYSTRUCTURE" | "BODY" | "MODSEQ" | "EMAILID" | "THREADID" }
  /** RFC 8970 PREVIEW [(LAZY)]: LAZY changes nothing here, the preview is computed at once. */
  | { kind: "PREVIEW"; lazy: boolean }
  | { kind: "section"; name: "BODY" | "RFC822" | "RFC822.HEADER" | "RFC822.TEXT"; spec: SectionSpec; peek: boolean; partial?: [number, number | undefined] }
  /** RFC 3516 §4.3 BINARY[part]<partial> / BINARY.PEEK, and BINARY.SIZE[part]. */
  | { kind: "binary"; path: number[]; peek: boolean; partial?: [number, number | undefined] }
  | { kind: "binary-size"; path: number[] };

export interface FetchRequest {
  set: SetArgument;
  items: FetchItem[];
  /** RFC 7162 §3.1.4.1 CHANGEDSINCE mod-sequence. */
  changedSince?: number;
  /** RFC 7162 §3.2.6 VANISHED (UID FETCH, with CHANGEDSINCE). */
  vanished: boolean;
}

/**
 * `uid`: the command is UID FETCH; `qresync`: QRESYNC is enabled (VANISHED needs both).
 * The checks go in the order the command always made them, so the first problem is the one answered.
 */
export function parseFetch(args: readonly Token[], opts: { uid: boolean; qresync: boolean }): FetchRequest {
  if (args.length < 2) throw new ArgumentError("FETCH takes a sequence set and data items");
  const set = setArgument(args[0]);
  if (!set) throw new ArgumentError("invalid sequence set");
  const items = parseItems(args[1]!);
  let changedSince: number | undefined;
  let vanished = false;
  if (args[2]) {
    const mods = args[2].type === "list" ? args[2].items : [];
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i]!.type === "atom" ? (mods[i] as { value: string }).value.toUpperCase() : "";
      if (m === "CHANGEDSINCE") changedSince = nz(mods[++i], "CHANGEDSINCE");
      else if (m === "VANISHED") {
        // RFC 7162 §3.2.6: UID FETCH only, with CHANGEDSINCE, once QRESYNC is enabled.
        if (!opts.qresync) throw new ArgumentError("VANISHED needs QRESYNC, which is not enabled");
        if (!opts.uid) throw new ArgumentError("VANISHED is a UID FETCH modifier");
        vanished = true;
      } else throw new ArgumentError(`unknown FETCH modifier ${m}`);
    }
    if (mods.length === 0) throw new ArgumentError("FETCH modifiers must be a list");
    if (vanished && changedSince === undefined) throw new ArgumentError("VANISHED needs CHANGEDSINCE");
  }
  return { set, items, ...(changedSince !== undefined ? { changedSince } : {}), vanished };
}

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

function parseItems(t: Token): FetchItem[] {
  if (t.type === "atom" && !t.section && MACROS[t.value.toUpperCase()]) {
    return MACROS[t.value.toUpperCase()]!.map((k) => ({ kind: k }) as FetchItem);
  }
  const tokens = t.type === "list" ? t.items : [t];
  if (tokens.length === 0) throw new ArgumentError("FETCH needs at least one data item");
  const items: FetchItem[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    // RFC 8970 §7: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY"
    if (token.type === "atom" && !token.section && token.value.toUpperCase() === "PREVIEW") {
      const mods = tokens[i + 1]?.type === "list" ? (tokens[++i] as { items: Token[] }).items : undefined;
      if (mods && (mods.length === 0 || mods.some((m) => m.type !== "atom" || m.value.toUpperCase() !== "LAZY"))) throw new ArgumentError("PREVIEW takes (LAZY) as its only modifier");
      items.push({ kind: "PREVIEW", lazy: Boolean(mods) });
    } else items.push(parseItem(token));
  }
  return items;
}

function parseItem(t: Token): FetchItem {
  if (t.type !== "atom") throw new ArgumentError("FETCH data items are atoms");
  const name = t.value.toUpperCase();
  if (t.section === undefined) {
    switch (name) {
      case "FLAGS":
      case "UID":
      case "INTERNALDATE":
      case "RFC822.SIZE":
      case "ENVELOPE":
      case "BODYSTRUCTURE":
      case "BODY":
      case "MODSEQ":
      case "EMAILID":
      case "THREADID":
        return { kind: name };
      case "RFC822":
        return { kind: "section", name: "RFC822", spec: { path: [], text: "", fields: [] }, peek: false };
      case "RFC822.HEADER":
        return { kind: "section", name: "RFC822.HEADER", spec: { path: [], text: "HEADER", fields: [] }, peek: true };
      case "RFC822.TEXT":
        return { kind: "section", name: "RFC822.TEXT", spec: { path: [], text: "TEXT", fields: [] }, peek: false };
      default:
        throw new ArgumentError(`unknown FETCH data item ${t.value}`);
    }
  }
  if (name === "BINARY" || name === "BINARY.PEEK" || name === "BINARY.SIZE") return parseBinaryItem(name, t);
  if (name !== "BODY" && name !== "BODY.PEEK") throw new ArgumentError(`unknown FETCH data item ${t.value}[…]`);
  const item: FetchItem = { kind: "section", name: "BODY", spec: parseSection(t.section), peek: name === "BODY.PEEK" };
  if (t.partial) {
    if (t.partial[1] === 0) throw new ArgumentError("a partial length must be positive");
    item.partial = t.partial;
  }
  return item;
}

/** RFC 3516 §6: "BINARY" [".PEEK"] section-binary [partial], "BINARY.SIZE" section-binary; section-binary = "[" [section-part] "]". */
function parseBinaryItem(name: "BINARY" | "BINARY.PEEK" | "BINARY.SIZE", t: Token & { type: "atom" }): FetchItem {
  const section = t.section ?? [];
  if (section.length > 1 || (section[0] && (section[0].type !== "atom" || !/^[1-9]\d*(\.[1-9]\d*)*$/.test(section[0].value)))) {
    throw new ArgumentError(`${name}[…] takes only part numbers, like ${name}[1.2]`);
  }
  const path = section[0] ? (section[0] as { value: string }).value.split(".").map(Number) : [];
  if (name === "BINARY.SIZE") {
    if (t.partial) throw new ArgumentError("BINARY.SIZE takes no partial range");
    return { kind: "binary-size", path };
  }
  const item: FetchItem = { kind: "binary", path, peek: name === "BINARY.PEEK" };
  if (t.partial) {
    if (t.partial[1] === 0) throw new ArgumentError("a partial length must be positive");
    item.partial = t.partial;
  }
  return item;
}

/** RFC 3501 §9 section-spec: `1.2.HEADER.FIELDS (A B)`, `TEXT`, `2.MIME`, `` */
export function parseSection(tokens: Token[]): SectionSpec {
  const first = tokens[0];
  if (!first) return { path: [], text: "", fields: [] };
  if (first.type !== "atom") throw new ArgumentError("invalid section");
  const parts = first.value.toUpperCase().split(".");
  const path: number[] = [];
  while (parts.length && /^[1-9]\d*$/.test(parts[0]!)) path.push(Number(parts.shift()));
  const text = parts.join(".");
  if (!["", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"].includes(text)) throw new ArgumentError(`invalid section ${first.value}`);
  if (text === "MIME" && path.length === 0) throw new ArgumentError("MIME needs a part number");
  const spec: SectionSpec = { path, text: text as SectionSpec["text"], fields: [] };
  if (text.startsWith("HEADER.FIELDS")) {
    const list = tokens[1];
    if (!list || list.type !== "list" || list.items.length === 0) throw new ArgumentError(`${text} needs a list of field names`);
    spec.fields = list.items.map((i) => (i.type === "atom" ? i.value : i.type === "string" ? i.value : ""));
  } else if (tokens.length > 1) throw new ArgumentError("invalid section");
  return spec;
}
