/**
 * SMTP replies and transport errors → what happens to a recipient, pure.
 * RFC 5321 §4.2.1: 2yz is success, 4yz a transient failure (try again later), 5yz a
 * permanent one. Errors that carry no reply (refused connections, timeouts, DNS
 * trouble) are transient: the next hop may be back later (DESIGN: retry schedule).
 */
export type Outcome = "delivered" | "deferred" | "bounced";

export interface Verdict {
  outcome: Outcome;
  /** The remote reply, or a reply-like text with an RFC 3463 enhanced code for local errors. */
  reply: string;
}

export function classifyReply(code: number, reply: string): Verdict {
  const text = reply.trim() || String(code);
  if (code >= 200 && code < 300) return { outcome: "delivered", reply: text };
  if (code >= 500 && code < 600) return { outcome: "bounced", reply: text };
  // 4yz, and anything off the protocol (1yz, 3yz where a final reply was due): try again.
  return { outcome: "deferred", reply: text };
}

/** RFC 3463 enhanced codes for failures that happen before any reply is read. */
const networkErrors: Record<string, string> = {
  ECONNREFUSED: "4.4.1 connection refused", // X.4.1 no answer from host
  ETIMEDOUT: "4.4.1 connection timed out",
  EHOSTUNREACH: "4.4.1 host unreachable",
  ENETUNREACH: "4.4.1 network unreachable",
  ECONNRESET: "4.4.2 connection reset", // X.4.2 bad connection
  EPIPE: "4.4.2 connection broken",
  ECONNECTION: "4.4.2 connection closed unexpectedly",
  ESOCKET: "4.4.2 socket error",
  ETLS: "4.4.2 TLS negotiation failed",
  EPROTOCOL: "4.4.2 invalid SMTP reply",
  EDNS: "4.4.3 DNS lookup failed", // X.4.3 directory server failure
  ESERVFAIL: "4.4.3 DNS server failure",
  ETIMEOUT: "4.4.3 DNS lookup timed out",
  EREFUSED: "4.4.3 DNS query refused",
};

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

/** A failed send or lookup → verdict. A reply code wins; without one, it is transient. */
export function classifyError(err: unknown, where?: string): Verdict {
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  if (typeof e.responseCode === "number" && e.responseCode > 0) {
    return classifyReply(e.responseCode, typeof e.response === "string" ? e.response : String(e.responseCode));
  }
  const codes = [e.originalCode, e.code].filter((c): c is string => typeof c === "string");
  const known = codes.map((c) => networkErrors[c]).find((t) => t !== undefined);
  const detail = known ?? `4.4.0 ${typeof e.message === "string" && e.message ? e.message : String(err)}`;
  return { outcome: "deferred", reply: where ? `${detail} (${where})` : detail };
}
