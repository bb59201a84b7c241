import type { HeaderField, RspamdAction, RspamdAnswer } from "./answer.js";

export interface SpamPolicy {
  /** RSPAMD_FAIL_CLOSED: defer when rspamd gives no usable answer, rather than accept unscored. */
  failClosed: boolean;
}

/**
 * The header fields Correo writes from rspamd's verdict. Any that arrive with the
 * message are removed first: only this MX may say what its spam check found (as
 * RFC 8601 §5 asks of Authentication-Results claiming our authserv-id).
 */
export const SPAM_HEADERS = ["X-Spam-Flag", "X-Spam-Score", "X-Spam-Status", "X-Spam-Action"] as const;

/**
 * What to do with a message after its spam check; protocol-neutral (the SMTP reply
 * codes are the listener's: 550 5.7.1 for reject, 451 4.7.1 for defer).
 * `addHeaders` go on top of the message after `removeHeaders` (names, any case) are taken out.
 */
export type SpamDecision =
  | { outcome: "accept"; action: RspamdAction | "unchecked"; score?: number; addHeaders: HeaderField[]; removeHeaders: string[] }
  | { outcome: "junk"; action: "add header" | "rewrite subject"; score: number; addHeaders: HeaderField[]; removeHeaders: string[] }
  | { outcome: "defer"; action: RspamdAction | "unchecked"; score?: number; why: string }
  | { outcome: "reject"; action: "reject"; score: number; why: string };

// RFC 5322 §3.6.8: a field name is printable US-ASCII except the colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
const ours = new Set<string>([...SPAM_HEADERS.map((h) => h.toLowerCase()), "subject"]);

/** One unfolded line of printable text: CR and LF become spaces, other controls go (RFC 5322 §2.2). */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+[ \t]*/g, " ").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "").trim();
}

/**
 * A Subject value for the header: as is when printable ASCII, else RFC 2047 §4.1
 * B-encoded UTF-8 words of at most 75 characters (45 octets each), folded (§2).
 */
export function subjectFieldValue(subject: string): string {
  const text = oneLine(subject);
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = "";
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, "utf8") > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, "utf8").toString("base64")}?=`).join("\r\n ");
}

const score2 = (n: number) => n.toFixed(2);

function scoredHeaders(answer: RspamdAnswer, spam: boolean): HeaderField[] {
  const status = `${spam ? "Yes" : "No"}, score=${score2(answer.score)} required=${score2(answer.requiredScore)}`;
  return [
    ...(spam ? [{ name: "X-Spam-Flag", value: "YES" }] : []),
    { name: "X-Spam-Score", value: score2(answer.score) },
    { name: "X-Spam-Status", value: status },
    { name: "X-Spam-Action", value: answer.action },
  ];
}

/** rspamd's own header edits (milter_headers), minus names that are ours to write, each one valid line. */
function milterEdits(answer: RspamdAnswer): { add: HeaderField[]; remove: string[] } {
  const add = answer.addHeaders
    .filter((h) => FIELD_NAME.test(h.name) && !ours.has(h.name.toLowerCase()))
    .map((h) => ({ name: h.name, value: oneLine(h.value) }));
  // rspamd's remove_headers value picks an instance (0 all, 1 the first, -1 the last); all go.
  const remove = answer.removeHeaders.filter((n) => FIELD_NAME.test(n) && !ours.has(n.toLowerCase()));
  return { add, remove };
}

/**
 * rspamd's answer (or its absence) as Correo's decision, the table:
 * reject → refuse for good; soft reject and greylist → try again later; add header and
 * rewrite subject → accept into Junk with X-Spam-* headers (and the new Subject);
 * no action → accept with the score recorded; no answer in time or an error → accept
 * unscored (fail open) or try again later (fail closed).
 */
export function decideSpam(result: RspamdAnswer | "timeout" | "error", policy: SpamPolicy): SpamDecision {
  if (result === "timeout" || result === "error") {
    const why = result === "timeout" ? "rspamd did not answer in time" : "rspamd's answer could not be used";
    if (policy.failClosed) return { outcome: "defer", action: "unchecked", why };
    return { outcome: "accept", action: "unchecked", addHeaders: [], removeHeaders: [...SPAM_HEADERS] };
  }
  const answer = result;
  const { score } = answer;
  switch (answer.action) {
    case "reject":
      return { outcome: "reject", action: "reject", score, why: `rspamd says reject (score ${score2(score)}, required ${score2(answer.requiredScore)})` };
    case "soft reject":
    case "greylist":
      return { outcome: "defer", action: answer.action, score, why: answer.action === "greylist" ? "greylisted" : "rspamd asked to try again later" };
    case "add header":
    case "rewrite subject": {
      const milter = milterEdits(answer);
      const addHeaders = [...scoredHeaders(answer, true), ...milter.add];
      const removeHeaders = [...SPAM_HEADERS, ...milter.remove];
      if (answer.action === "rewrite subject" && answer.subject !== undefined) {
        addHeaders.push({ name: "Subject", value: subjectFieldValue(answer.subject) });
        removeHeaders.push("Subject");
      }
      return { outcome: "junk", action: answer.action, score, addHeaders, removeHeaders };
    }
    case "no action": {
      const milter = milterEdits(answer);
      return { outcome: "accept", action: "no action", score, addHeaders: [...scoredHeaders(answer, false), ...milter.add], removeHeaders: [...SPAM_HEADERS, ...milter.remove] };
    }
  }
}
