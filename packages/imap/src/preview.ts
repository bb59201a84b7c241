/**
 * RFC 8970 PREVIEW: a short plain-text view of a message, for a client's message list.
 * §3: at most 256 characters, no line breaks or markup, never a split character; NIL-free
 * (an empty string when the message has no text). Taken from the first text/plain part that
 * is not an attachment, else the first text/html one with its markup removed. Pure.
 */
import type { BodyPart } from "./storage.js";

export const PREVIEW_CHARACTERS = 256;

/** The part a preview comes from: the first inline text/plain, else the first inline text/html. */
export function previewPart(body: BodyPart): BodyPart | undefined {
  const leaves: BodyPart[] = [];
  const walk = (p: BodyPart) => {
    if (p.parts) p.parts.forEach(walk);
    else if (p.type === "text" && p.disposition?.type.toLowerCase() !== "attachment") leaves.push(p);
  };
  walk(body);
  return leaves.find((p) => p.subtype === "plain") ?? leaves.find((p) => p.subtype === "html");
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** HTML to its text: scripts, styles and tags dropped, the common entities decoded. */
export function htmlText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") {
        const code = e[1]?.toLowerCase() === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : " ";
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

/** §3: whitespace runs (line breaks included) become one space, then the first 256 characters (code points). */
export function previewOf(text: string, subtype = "plain"): string {
  const plain = (subtype === "html" ? htmlText(text) : text).replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
  const chars = [...plain];
  return chars.length <= PREVIEW_CHARACTERS ? plain : chars.slice(0, PREVIEW_CHARACTERS).join("").trimEnd();
}
