import type { InboundAuth } from "./verify.js";

/**
 * What a hosted domain does with mail that fails authentication (issue 14 item 2):
 * enforce: DMARC p=reject (and SPF -all without DMARC) is refused, p=quarantine goes to Junk;
 * quarantine-only: both go to Junk, nothing is refused;
 * report-only: everything is delivered, the verdict is only recorded.
 */
export const TRUST_MODES = ["enforce", "quarantine-only", "report-only"] as const;
export type TrustMode = (typeof TRUST_MODES)[number];

/** Strictest first: the order in which several recipients' modes are combined. */
export function strictestMode(modes: readonly TrustMode[], fallback: TrustMode): TrustMode {
  for (const m of TRUST_MODES) if (modes.includes(m)) return m;
  return fallback;
}

/** Why the decision is what it is: a small set, used as a metric label. */
export type TrustBasis = "authenticated" | "no-policy" | "dmarc-reject" | "dmarc-quarantine" | "spf-fail" | "arc-override" | "temperror" | "unparsed";

export interface TrustDecision {
  action: "accept" | "junk" | "reject" | "defer";
  basis: TrustBasis;
  /** One line for the SMTP reply and the timeline. */
  reason: string;
}

const refuseOrFile = (mode: TrustMode, basis: TrustBasis, reason: string): TrustDecision =>
  mode === "enforce" ? { action: "reject", basis, reason } : mode === "quarantine-only" ? { action: "junk", basis, reason } : { action: "accept", basis, reason };

/**
 * The policy, pure: what the checks found and the recipient domain's mode in, the
 * verdict out. A temporary DNS failure defers (451 4.7.0) only under enforcement and only
 * where the verdict depends on it (RFC 7489 §6.6.3 lets a receiver defer on temperror):
 * a wrong 550 or a wrong Junk is worse than a retry.
 */
export function decideTrust(auth: InboundAuth, mode: TrustMode): TrustDecision {
  if (!auth.parsed) return { action: "accept", basis: "unparsed", reason: "header not parsable for authentication: unauthenticated (none)" };
  const { dmarc, spf } = auth;
  const enforcing = mode !== "report-only";
  const defer = (what: string): TrustDecision =>
    enforcing ? { action: "defer", basis: "temperror", reason: `${what}: temporary DNS failure, the verdict cannot be decided yet` } : { action: "accept", basis: "temperror", reason: `${what}: temperror (report-only)` };

  switch (dmarc.result) {
    case "pass":
      return { action: "accept", basis: "authenticated", reason: `dmarc=pass for ${dmarc.domain}` };
    case "temperror":
      return defer(`DMARC of ${dmarc.domain}`);
    case "fail": {
      if (auth.arcOverride) {
        return { action: "accept", basis: "arc-override", reason: `dmarc=fail for ${dmarc.domain} overridden: trusted ARC sealer ${auth.arcOverride.sealer} says dmarc=pass (RFC 7489 §6.7)` };
      }
      const policy = dmarc.policy ?? "none";
      if (policy === "none") return { action: "accept", basis: "no-policy", reason: `dmarc=fail for ${dmarc.domain}, policy none` };
      // An aligned identifier whose check failed temporarily might have passed.
      if (spf.result === "temperror" || auth.dkim.some((d) => d.result === "temperror")) return defer(`SPF or DKIM for ${dmarc.domain}`);
      if (policy === "reject") return refuseOrFile(mode, "dmarc-reject", `DMARC policy of ${dmarc.domain} is reject and the message fails it (RFC 7489 §6.6.2)`);
      return mode === "report-only"
        ? { action: "accept", basis: "dmarc-quarantine", reason: `DMARC policy of ${dmarc.domain} is quarantine and the message fails it (report-only)` }
        : { action: "junk", basis: "dmarc-quarantine", reason: `DMARC policy of ${dmarc.domain} is quarantine and the message fails it (RFC 7489 §6.6.2)` };
    }
    default:
      break;
  }
  // No DMARC record (none) or a broken one (permerror): SPF's own verdict (RFC 7208 §8.4).
  if (dmarc.result === "none" && spf.result === "temperror") return defer(`SPF of ${spf.domain}`);
  if (dmarc.result === "none" && spf.result === "fail") {
    return refuseOrFile(mode, "spf-fail", `SPF of ${spf.domain} does not permit ${auth.iprev.ip} (-all) and the domain has no DMARC record (RFC 7208 §8.4)`);
  }
  return { action: "accept", basis: "no-policy", reason: `dmarc=${dmarc.result}, spf=${spf.result}: nothing to enforce` };
}

/** The verdict as one line for the timeline: `spf=pass dkim=pass dmarc=pass arc=none iprev=pass; junk: …`. */
export function summarizeAuth(auth: InboundAuth, decision: TrustDecision): string {
  const dkim = auth.dkim.length === 0 ? "none" : auth.dkim.map((d) => `${d.result}(${d.domain})`).join(",");
  const methods = `spf=${auth.spf.result} dkim=${dkim} dmarc=${auth.dmarc.result}${auth.arcOverride ? "(arc-override)" : ""} arc=${auth.arc.result} iprev=${auth.iprev.result}`;
  return `${methods}; ${decision.action}: ${decision.reason}`;
}
