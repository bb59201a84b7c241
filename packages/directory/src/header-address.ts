import { parseMailbox, type Mailbox, type MailboxOptions } from "./mailbox-syntax.js";

/**
 * One address as a message header or an HTTP API field writes it (RFC 5322 §3.4
 * `mailbox`): `addr-spec` or `[display-name] <addr-spec>`, with comments and folding
 * white space (CFWS) around it, RFC 6532 UTF-8 allowed. The addr-spec itself must be
 * an RFC 5321 Mailbox (`parseMailbox`), since it becomes an envelope address; it
 * stays exactly as written. CFWS *inside* the addr-spec is refused: around the "@"
 * RFC 5322 §3.4.1 says it SHOULD NOT be used, and between the dots it is obsolete
 * syntax (§4.4) that would read `a . b@x` as another address than it looks.
 */
export interface HeaderMailbox {
  /** The display name, decoded (quotes and escapes removed, comments dropped); "" when there is none. */
  displayName: string;
  mailbox: Mailbox;
}

export type HeaderMailboxSyntax = { ok: true; value: HeaderMailbox } | { ok: false; reason: string };

const WSP = /[ \t]/;
// RFC 5322 §3.2.3 atext, RFC 6532 §3.2 UTF8-non-ascii; "." for obs-phrase (`John Q. Public`).
const PHRASE_CHAR = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]|[^\x00-\x7f]/u;

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  get c(): string {
    return this.s[this.i] ?? "";
  }
}

/** Skips RFC 5322 §3.2.2 CFWS: white space, CRLF folds (followed by white space) and nested comments. */
function skipCfws(cur: Cursor): string | undefined {
  // FWS = ([*WSP CRLF] 1*WSP): a fold after a fold with only white space between is obs-FWS (§4.2).
  let folded = false;
  for (;;) {
    const c = cur.c;
    if (WSP.test(c)) cur.i++;
    else if (cur.s.startsWith("\r\n", cur.i) && WSP.test(cur.s[cur.i + 2] ?? "")) {
      if (folded) return "has obsolete folding white space (two line folds in a row, RFC 5322 §4.2)";
      folded = true;
      cur.i += 3;
    } else if (c === "\r" || c === "\n") return "has a line break that is not folding white space";
    else if (c === "(") {
      folded = false;
      let depth = 0;
      do {
        const d = cur.c;
        if (d === "") return "has an unclosed comment";
        if (d === "\\") cur.i++;
        else if (d === "(") depth++;
        else if (d === ")") depth--;
        else if (/[\x00-\x08\x0a-\x1f\x7f]/.test(d) && !cur.s.startsWith("\r\n", cur.i)) return "has a control character in a comment";
        cur.i++;
      } while (depth > 0);
    } else return undefined;
  }
}

/** RFC 5322 §3.2.5 phrase (obs-phrase included): the display name before "<", decoded. */
function displayName(text: string): { name: string } | { reason: string } {
  const cur = new Cursor(text);
  const words: string[] = [];
  for (;;) {
    const bad = skipCfws(cur);
    if (bad) return { reason: bad };
    if (cur.done) break;
    if (cur.c === '"') {
      let word = "";
      cur.i++;
      for (;;) {
        if (cur.done) return { reason: "has an unclosed quote in the display name" };
        const c = cur.c;
        if (c === '"') break;
        if (c === "\\") {
          cur.i++;
          if (cur.done) return { reason: "has an unclosed quote in the display name" };
          word += cur.c;
        } else if (cur.s.startsWith("\r\n", cur.i)) {
          cur.i++;
        } else if (/[\x00-\x08\x0a-\x1f\x7f]/.test(c)) {
          return { reason: "has a control character in the display name" };
        } else word += c;
        cur.i++;
      }
      cur.i++;
      words.push(word);
      continue;
    }
    let word = "";
    for (const c of cur.s.slice(cur.i)) {
      if (!PHRASE_CHAR.test(c)) break;
      word += c;
    }
    if (word === "") return { reason: `has "${cur.c}" in the display name, where it is allowed only inside quotes` };
    cur.i += word.length;
    words.push(word);
  }
  return { name: words.join(" ") };
}

/** The addr-spec's end in `s` from `start`: the first unquoted white space, "(", ">" or the end. */
function addrSpecEnd(s: string, start: number): number {
  let i = start;
  let quoted = s[i] === '"';
  if (quoted) i++;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n" || c === "(" || c === ">" || c === "<") break;
  }
  return Math.min(i, s.length);
}

/** The first "<" outside quoted strings and comments, or -1. */
function angleStart(s: string): number {
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (quoted || depth > 0)) i++;
    else if (quoted) quoted = c !== '"';
    else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0 && c === '"') quoted = true;
    else if (depth === 0 && c === "<") return i;
  }
  return -1;
}

function mailboxAt(text: string, start: number, end: number, opts: MailboxOptions): { mailbox: Mailbox } | { reason: string } {
  const syntax = parseMailbox(text.slice(start, end), opts);
  return syntax.ok ? { mailbox: syntax.mailbox } : { reason: syntax.reason };
}

/** One RFC 5322 mailbox (`Name <a@b>`, `<a@b>`, `a@b`, with CFWS around), or why `text` is not one. */
export function parseHeaderMailbox(text: string, opts: MailboxOptions = {}): HeaderMailboxSyntax {
  const lt = angleStart(text);
  const cur = new Cursor(text);
  let name = "";
  if (lt >= 0) {
    const phrase = displayName(text.slice(0, lt));
    if ("reason" in phrase) return { ok: false, reason: phrase.reason };
    name = phrase.name;
    cur.i = lt + 1;
  } else {
    const bad = skipCfws(cur);
    if (bad) return { ok: false, reason: bad };
  }
  const start = cur.i;
  const end = addrSpecEnd(text, start);
  if (end === start) return { ok: false, reason: lt >= 0 ? "has nothing between < and >" : "is empty" };
  const found = mailboxAt(text, start, end, opts);
  cur.i = end;
  if (lt >= 0) {
    if (cur.c !== ">") {
      if (cur.done) return { ok: false, reason: "has an unclosed <" };
      return { ok: false, reason: "has white space or a comment inside <…>" };
    }
    cur.i++;
  }
  const bad = skipCfws(cur);
  if (bad) return { ok: false, reason: bad };
  if (!cur.done) {
    const rest = text.slice(cur.i);
    const spec = text.slice(start, end);
    if (lt < 0 && !spec.includes("@") && !rest.includes("@")) return { ok: false, reason: "has no @" };
    if (lt < 0 && (/^[.@]/.test(rest) || /[.@]$/.test(spec) || !spec.includes("@"))) {
      return { ok: false, reason: "has white space or a comment inside the address (RFC 5322 §3.4.1, obsolete syntax of §4.4)" };
    }
    if (rest.startsWith(",")) return { ok: false, reason: "is a list; give one address per item" };
    return { ok: false, reason: `has "${rest.slice(0, 20)}" after the address` };
  }
  if ("reason" in found) return { ok: false, reason: found.reason };
  return { ok: true, value: { displayName: name, mailbox: found.mailbox } };
}
