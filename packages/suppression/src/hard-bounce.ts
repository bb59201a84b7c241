/**
 * Which final refusals put the recipient on the sending domain's suppression list, pure.
 *
 * Only a reply that says the *address* is permanently no good does: mailing it again can
 * never succeed and only hurts the sender's reputation. A refusal of the *message* (its
 * size, its content, a policy or reputation block) or trouble of the receiving *system*
 * may pass, so the address stays mailable. RFC 3463 §3 reads the enhanced status code
 * class.subject.detail: class 5 is a permanent failure (§3.1), the subject says what
 * failed (§3.3–§3.9).
 */
export type BounceVerdict =
  | { suppress: true; status: string }
  | { suppress: false; why: string };

/** RFC 3463 §3.2/§3.3 X.1.x and X.2.x details that condemn the address itself. */
const HARD: Record<string, string> = {
  // §3.3 X.1.0 other address status: some address problem, by the receiver's word.
  "1.0": "other address status",
  // §3.3 X.1.1 bad destination mailbox address: the local part does not exist.
  "1.1": "bad destination mailbox address",
  // §3.3 X.1.2 bad destination system address: the domain takes no mail at all.
  "1.2": "bad destination system address",
  // §3.3 X.1.3 bad destination mailbox address syntax.
  "1.3": "bad destination mailbox address syntax",
  // §3.3 X.1.6 destination mailbox has moved, no forwarding address.
  "1.6": "destination mailbox has moved, no forwarding address",
  // RFC 7505 §4.2 X.1.10 recipient address has null MX.
  "1.10": "recipient address has null MX",
  // §3.4 X.2.1 mailbox disabled, not accepting messages.
  "2.1": "mailbox disabled, not accepting messages",
};

/**
 * Not suppressed, and why (the cases the issue names, and the other subjects):
 * - X.1.4 (ambiguous address) and X.1.7/X.1.8 (the *sender's* address) are not about
 *   the recipient's mailbox being gone.
 * - X.2.2 mailbox full, X.2.3 message too long, X.2.4 list expansion: the mailbox
 *   exists; another message, or the same one later, may fit.
 * - X.3.x mail system, X.4.x network and routing, X.5.x protocol: the receiving
 *   system's trouble, "transient-ish" even when reported as 5yz.
 * - X.6.x content and X.7.x security or policy: a refusal of this message or of the
 *   sender (RFC 3463 §3.9), not of the address.
 */
const SUBJECT_WHY: Record<string, string> = {
  "1": "an address status that does not condemn the recipient's mailbox",
  "2": "the mailbox exists (full, message too long or list trouble)",
  "3": "mail system status: the receiving system's trouble",
  "4": "network or routing status: the receiving system's trouble",
  "5": "mail delivery protocol status",
  "6": "message content or media status: a refusal of this message",
  "7": "security or policy status: a refusal of this message or sender, not of the address",
};

// A reply as the relay records it: "550 5.1.1 text" or "550-5.1.1 text" (RFC 5321
// §4.2.1 basic code, RFC 2034 §4 enhanced code after it), or a local "5.1.2 text".
const REPLY = /^\s*(?:([2-5])\d\d(?:[ -]|$))?\s*(?:([245])\.(\d{1,3})\.(\d{1,3}))?/;

/** Whether a bounce with this (final, 5yz) reply makes the recipient a hard bounce. */
export function classifyBounce(reply: string): BounceVerdict {
  const m = REPLY.exec(reply);
  const basic = m?.[1];
  const enhancedClass = m?.[2];
  if (!enhancedClass) {
    // RFC 5321 §4.2.2 550 is "mailbox unavailable" *and* "rejected for policy reasons":
    // without an enhanced code the two cannot be told apart, so the address stays.
    return { suppress: false, why: basic ? `no enhanced status code in a ${basic}yz reply` : "not an SMTP reply" };
  }
  if (basic && basic !== enhancedClass) return { suppress: false, why: `the basic (${basic}yz) and enhanced (${enhancedClass}.x.x) codes disagree` };
  const status = `${enhancedClass}.${Number(m[3])}.${Number(m[4])}`;
  if (enhancedClass !== "5") return { suppress: false, why: `${status} is not a permanent failure (RFC 3463 §3.1)` };
  const key = `${Number(m[3])}.${Number(m[4])}`;
  if (HARD[key]) return { suppress: true, status };
  const subject = String(Number(m[3]));
  return { suppress: false, why: `${status}: ${SUBJECT_WHY[subject] ?? "an unknown status subject"}` };
}

/** The wording of HARD for a status this classifier suppressed on, for the entry's detail. */
export function hardBounceMeaning(status: string): string | undefined {
  return HARD[status.split(".").slice(1).join(".")];
}
