import type { InboundPolicy } from "@correo/config";
import { parseAddress, type DirectoryLookups } from "@correo/directory";
import { atZero, counter, metricNames } from "@correo/telemetry";
import {
  decideTrust,
  stripForgedResults,
  strictestMode,
  summarizeAuth,
  verifyInbound,
  type InboundAuth,
  type TrustDecision,
  type TrustResolver,
} from "@correo/trust";

/** What the MX needs to verify inbound mail (VERIFY_INBOUND=on). */
export interface InboundTrust {
  resolver: TrustResolver;
  /** AUTHSERV_ID, by default CORREO_HOSTNAME (RFC 8601 §2.5). */
  authservId: string;
  /** INBOUND_AUTH_POLICY: the mode of hosted domains without their own. */
  defaultPolicy: InboundPolicy;
  /** TRUSTED_ARC_SEALERS. */
  trustedArcSealers: readonly string[];
}

export interface TrustOutcome {
  /** The message without forged Authentication-Results, with ours on top. */
  raw: Buffer;
  auth: InboundAuth;
  decision: TrustDecision;
  mode: InboundPolicy;
  /** For the timeline ("accepted" events) and the logs. */
  summary: string;
  forgedRemoved: number;
}

const results = () => counter(metricNames.inboundAuthResults, "Authentication checks of inbound mail at the MX, by method and result");
const verdicts = () => counter(metricNames.inboundAuthVerdicts, "Verdicts of the MX on inbound mail's authentication, by verdict and basis");

export function inboundTrustMetricsAtZero(): void {
  // Each verdict with its usual basis, so that the dashboard's series exist from the start.
  atZero(verdicts(), [
    { verdict: "accept", basis: "authenticated" },
    { verdict: "junk", basis: "dmarc-quarantine" },
    { verdict: "reject", basis: "dmarc-reject" },
    { verdict: "defer", basis: "temperror" },
  ]);
  // Each method's pass and fail (RFC 8601 §2.7), the results a dashboard compares first.
  atZero(
    results(),
    ["spf", "spf-helo", "dkim", "dmarc", "arc", "iprev"].flatMap((method) => ["pass", "fail"].map((result) => ({ method, result }))),
  );
}

/**
 * The I/O step of the checks at the end of DATA: the recipients' policies (one
 * statement), then strip, verify (DNS through `trust.resolver`), decide. Several
 * recipients take the strictest of their domains' modes, because DATA has one reply.
 */
export async function checkInboundTrust(
  directory: Pick<DirectoryLookups, "inboundPolicies">,
  trust: InboundTrust,
  message: Buffer,
  session: { ip: string; helo: string; mailFrom: string; recipients: string[] },
): Promise<TrustOutcome> {
  const domains = [...new Set(session.recipients.map((r) => parseAddress(r)?.domain).filter((d): d is string => d !== undefined))];
  const policies = await directory.inboundPolicies(domains);
  const mode = strictestMode(
    domains.map((d) => policies.get(d) ?? trust.defaultPolicy),
    trust.defaultPolicy,
  );
  const stripped = stripForgedResults(message, trust.authservId);
  const { auth, header } = await verifyInbound(stripped.raw, {
    ip: session.ip,
    helo: session.helo,
    mailFrom: session.mailFrom,
    authservId: trust.authservId,
    resolver: trust.resolver,
    trustedArcSealers: trust.trustedArcSealers,
  });
  const decision = decideTrust(auth, mode);
  record(auth, decision);
  return {
    raw: Buffer.concat([Buffer.from(header, "utf8"), stripped.raw]),
    auth,
    decision,
    mode,
    summary: `${summarizeAuth(auth, decision)} (policy ${mode})`,
    forgedRemoved: stripped.removed,
  };
}

function record(auth: InboundAuth, decision: TrustDecision): void {
  const r = results();
  r.add(1, { method: "spf", result: auth.spf.result });
  if (auth.spfHelo) r.add(1, { method: "spf-helo", result: auth.spfHelo.result });
  if (auth.dkim.length === 0) r.add(1, { method: "dkim", result: "none" });
  for (const d of auth.dkim) r.add(1, { method: "dkim", result: d.result });
  r.add(1, { method: "dmarc", result: auth.dmarc.result });
  r.add(1, { method: "arc", result: auth.arc.result });
  r.add(1, { method: "iprev", result: auth.iprev.result });
  verdicts().add(1, { verdict: decision.action, basis: decision.basis });
}
