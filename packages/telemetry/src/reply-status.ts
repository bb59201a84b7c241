/**
 * The status of an SMTP reply as an operator groups it: the enhanced status code
 * (RFC 3463 §2: class.subject.detail) when the reply has one, else the basic reply
 * code (RFC 5321 §4.2), and its class — 4 (persistent transient failure) or 5
 * (permanent failure). Label values stay bounded: anything else is `unknown`.
 */
export interface ReplyStatus {
  status: string;
  statusClass: string;
}

const enhanced = /(?:^|\s)([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)/;
const basic = /^([245])\d\d(?=[\s-]|$)/;

export function replyStatus(reply: string | null | undefined): ReplyStatus {
  const text = (reply ?? "").trim();
  const e = enhanced.exec(text);
  if (e) return { status: `${e[1]}.${e[2]}.${e[3]}`, statusClass: e[1]! };
  const b = basic.exec(text);
  if (b) return { status: text.slice(0, 3), statusClass: b[1]! };
  return { status: "unknown", statusClass: "unknown" };
}

/** The domain of `local-part@domain`, lower-cased (RFC 5321 §2.4: domains are case-insensitive). */
export function recipientDomain(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "unknown" : address.slice(at + 1).toLowerCase();
}
