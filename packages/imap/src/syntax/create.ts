/**
 * CREATE parameters (RFC 4466 §2.2 create-param) with RFC 6154 §3's USE:
 *
 *   create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"
 *
 * Pure: tokens in, the special use to store (or none) out; CreateParamError says BAD
 * (syntax) or NO [USEATTR] (a use Correo will not give a mailbox).
 */
import type { Token } from "../parser.js";

/** RFC 6154 §2 uses a created mailbox can have. \All and \Flagged name virtual views Correo has not got: NO [USEATTR]. */
const CREATABLE = new Map(["\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash"].map((u) => [u.toLowerCase(), u]));
const VIRTUAL = new Set(["\\all", "\\flagged"]);

export class CreateParamError extends Error {
  constructor(
    readonly status: "BAD" | "NO",
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface CreateParams {
  /** The special-use attribute in its canonical case, or null. */
  specialUse: string | null;
}

export function parseCreateParams(t: Token | undefined, extra: readonly Token[] = []): CreateParams {
  if (extra.length) throw new CreateParamError("BAD", "CREATE takes a mailbox name and one parameter list");
  if (t === undefined) return { specialUse: null };
  if (t.type !== "list") throw new CreateParamError("BAD", "CREATE parameters must be a parenthesized list");
  let specialUse: string | null = null;
  let seen = false;
  for (let i = 0; i < t.items.length; i++) {
    const p = t.items[i]!;
    const name = p.type === "atom" && !p.section ? p.value.toUpperCase() : "";
    if (name !== "USE") throw new CreateParamError("BAD", `unknown CREATE parameter ${p.type === "list" ? "(…)" : p.value.toString()}`);
    if (seen) throw new CreateParamError("BAD", "USE given twice");
    seen = true;
    const list = t.items[++i];
    if (list?.type !== "list") throw new CreateParamError("BAD", "USE takes a parenthesized list of special-use attributes");
    const uses = list.items.map((u) => {
      if (u.type !== "atom" || u.section || !u.value.startsWith("\\") || u.value.length < 2) throw new CreateParamError("BAD", "a special-use attribute is a flag like \\Junk");
      return u.value;
    });
    const distinct = [...new Set(uses.map((u) => u.toLowerCase()))];
    if (distinct.length > 1) throw new CreateParamError("NO", "a mailbox here has one special use", "USEATTR");
    const use = distinct[0];
    if (use === undefined) continue;
    if (VIRTUAL.has(use)) throw new CreateParamError("NO", `${uses[0]} is a virtual mailbox, which cannot be created`, "USEATTR");
    const canonical = CREATABLE.get(use);
    if (!canonical) throw new CreateParamError("NO", `unknown special use ${uses[0]}`, "USEATTR");
    specialUse = canonical;
  }
  return { specialUse };
}
