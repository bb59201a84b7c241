/**
 * Which notice a delivery is owed, pure. RFC 3461 §4.1: NOTIFY=NEVER asks for none;
 * otherwise FAILURE, SUCCESS and DELAY ask for the matching notice; no NOTIFY means
 * FAILURE (Correo's choice among the two defaults the RFC allows). RFC 3461 §6.2 and
 * RFC 5321 §6.1: a message from the null reverse-path <> is never answered with a DSN.
 */
export type Notice = "failure" | "success" | "delay" | "none";

export type NotifyKeyword = "NEVER" | "SUCCESS" | "FAILURE" | "DELAY";

export interface NoticeFacts {
  state: "queued" | "routed" | "deferred" | "delivered" | "bounced" | "expired";
  /** NULL in the database: the default (FAILURE). */
  notify: readonly NotifyKeyword[] | null;
  envelopeFrom: string;
  /** Only for deferred deliveries: how long since acceptance, and whether a delay notice went already. */
  ageMs?: number;
  delayNoticeSent?: boolean;
}

export function noticeFor(f: NoticeFacts, delayWarningMs: number): Notice {
  if (f.envelopeFrom === "") return "none";
  const notify = f.notify ?? ["FAILURE"];
  if (notify.includes("NEVER")) return "none";
  switch (f.state) {
    case "bounced":
    case "expired":
      return notify.includes("FAILURE") ? "failure" : "none";
    case "delivered":
      return notify.includes("SUCCESS") ? "success" : "none";
    case "deferred":
      return notify.includes("DELAY") && !f.delayNoticeSent && (f.ageMs ?? 0) >= delayWarningMs ? "delay" : "none";
    default:
      return "none";
  }
}
