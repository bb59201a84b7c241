import { authenticate } from "mailauth";
import { spf as checkSpf } from "mailauth/lib/spf";
import { isIP } from "node:net";
import type { TrustResolver } from "./dns-resolver.js";
import { checkIprev, clientAddress, type Iprev } from "./iprev.js";

/** RFC 8601 §2.7 result values (DMARC and ARC use the same words). */
export type MethodResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "temperror" | "permerror" | "policy";
export type DmarcPolicy = "none" | "quarantine" | "reject";

/** What the checks found, as plain data: the policy (decide.ts) and the timeline read this. */
export interface InboundAuth {
  /** false: the header could not be parsed for authentication; every method is then `none`. */
  parsed: boolean;
  /** SPF of the MAIL FROM identity (of postmaster@HELO for the null sender, RFC 7208 §2.4). */
  spf: { result: MethodResult; domain: string };
  /** SPF of the HELO identity (RFC 7208 §2.3); null when HELO is an address literal. */
  spfHelo: { result: MethodResult; domain: string } | null;
  /** Every DKIM-Signature (RFC 6376 §6.1), in the order of the header. */
  dkim: { result: MethodResult; domain: string; selector: string; aligned: boolean }[];
  /** DMARC of the RFC5322.From domain; `policy` is the one that applies (sp= for subdomains). */
  dmarc: { result: MethodResult; domain: string; policy?: DmarcPolicy };
  /** ARC chain validation (RFC 8617 §5.2); sealer and dmarc come from the newest ARC set. */
  arc: { result: MethodResult; instance?: number; sealer?: string; dmarc?: string };
  /** Set when DMARC failed but a trusted sealer's ARC chain says it passed (RFC 7489 §6.7 local policy). */
  arcOverride?: { sealer: string };
  iprev: Iprev;
}

export interface VerifyInput {
  /** Client address of the SMTP session. */
  ip: string;
  /** EHLO/HELO argument as given. */
  helo: string;
  /** MAIL FROM reverse-path; "" for the null sender. */
  mailFrom: string;
  /** Our authserv-id (RFC 8601 §2.5): AUTHSERV_ID, by default the SMTP host name. */
  authservId: string;
  resolver: TrustResolver;
  /** TRUSTED_ARC_SEALERS: domains whose ARC sets we believe (RFC 8617 §7.2). */
  trustedArcSealers?: readonly string[];
}

export interface Verified {
  auth: InboundAuth;
  /** One `Authentication-Results:` field with its CRLF, to be prepended (RFC 8601 §2.2, §5). */
  header: string;
}

type Status = { result?: string; comment?: string; aligned?: string | boolean; policy?: Record<string, unknown> };
interface MailauthResult {
  dkim?: { results?: { signingDomain?: string; selector?: string; status?: Status; info?: string }[] };
  spf?: { status?: Status; domain?: string; info?: string } | false;
  dmarc?: { status?: Status; domain?: string; policy?: string; info?: string } | false;
  arc?: { status?: Status; i?: number | false; info?: string; authenticationResults?: { dmarc?: { result?: string } }; chain?: ArcSet[] } | false;
}
type ArcSet = { i?: number; "arc-seal"?: { parsed?: { d?: { value?: string } } } };

const RESULTS = new Set<MethodResult>(["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy"]);
const asResult = (r: unknown): MethodResult => (RESULTS.has(r as MethodResult) ? (r as MethodResult) : "none");
const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

/**
 * Verifies one message received by the MX: SPF (MAIL FROM and HELO), every DKIM
 * signature, DMARC with alignment, the ARC chain (mailauth 4.13.3) and iprev, all
 * through `resolver`. Never throws for what the message holds: a header mailauth cannot
 * parse makes the message unauthenticated (`none`), not an error (issue 14 item 5).
 */
export async function verifyInbound(raw: Buffer, input: VerifyInput): Promise<Verified> {
  const ip = clientAddress(input.ip);
  const helo = input.helo.trim();
  const heloDomain = helo !== "" && !helo.startsWith("[") && isIP(helo) === 0 ? helo.toLowerCase() : undefined;
  const [iprev, heloSpf, mailauth] = await Promise.all([
    checkIprev(ip, input.resolver),
    heloDomain
      ? checkSpf({ sender: `postmaster@${heloDomain}`, ip, helo: heloDomain, mta: input.authservId, resolver: input.resolver } as never).catch(() => undefined)
      : Promise.resolve(undefined),
    authenticate(raw, {
      ip,
      helo: helo || undefined,
      sender: input.mailFrom || undefined,
      mta: input.authservId,
      resolver: input.resolver as never,
      disableBimi: true,
    } as never).then(
      (r) => r as unknown as MailauthResult,
      () => undefined,
    ),
  ]);
  const spfHelo = heloDomain ? { result: asResult((heloSpf as { status?: Status } | undefined)?.status?.result ?? "temperror"), domain: heloDomain } : null;
  if (!mailauth) {
    const auth: InboundAuth = {
      parsed: false,
      spf: { result: "none", domain: input.mailFrom ? domainOf(input.mailFrom) : (heloDomain ?? "") },
      spfHelo: null,
      dkim: [],
      dmarc: { result: "none", domain: "" },
      arc: { result: "none" },
      iprev,
    };
    return { auth, header: `Authentication-Results: ${input.authservId}; none (the message header could not be parsed for authentication)\r\n` };
  }
  const auth = summarize(mailauth, { mailFrom: input.mailFrom, heloDomain, iprev, spfHelo });
  const sealer = auth.arc.sealer;
  if (
    auth.dmarc.result === "fail" &&
    auth.arc.result === "pass" &&
    auth.arc.dmarc === "pass" &&
    sealer !== undefined &&
    (input.trustedArcSealers ?? []).some((d) => d.toLowerCase() === sealer)
  ) {
    auth.arcOverride = { sealer };
  }
  return { auth, header: renderHeader(input.authservId, auth, mailauth, heloSpf as { info?: string } | undefined) };
}

function summarize(
  m: MailauthResult,
  ctx: { mailFrom: string; heloDomain: string | undefined; iprev: Iprev; spfHelo: InboundAuth["spfHelo"] },
): InboundAuth {
  const spf = m.spf || undefined;
  const dmarc = m.dmarc || undefined;
  const arc = m.arc || undefined;
  const newest = arc?.i ? arc.chain?.find((set) => set.i === arc.i) : undefined;
  const policy = dmarc?.policy?.toLowerCase();
  return {
    parsed: true,
    spf: { result: asResult(spf?.status?.result), domain: spf?.domain ?? (ctx.mailFrom ? domainOf(ctx.mailFrom) : (ctx.heloDomain ?? "")) },
    spfHelo: ctx.spfHelo,
    dkim: (m.dkim?.results ?? [])
      .filter((r) => r.signingDomain !== undefined)
      .map((r) => ({
        result: asResult(r.status?.result),
        domain: (r.signingDomain ?? "").toLowerCase(),
        selector: r.selector ?? "",
        aligned: Boolean(r.status?.aligned),
      })),
    dmarc: {
      result: asResult(dmarc?.status?.result),
      domain: dmarc?.domain ?? "",
      ...(policy === "none" || policy === "quarantine" || policy === "reject" ? { policy } : {}),
    },
    arc: {
      result: asResult(arc?.status?.result),
      ...(arc?.i ? { instance: arc.i } : {}),
      ...(newest?.["arc-seal"]?.parsed?.d?.value ? { sealer: newest["arc-seal"].parsed.d.value.toLowerCase() } : {}),
      ...(arc?.authenticationResults?.dmarc?.result ? { dmarc: arc.authenticationResults.dmarc.result } : {}),
    },
    iprev: ctx.iprev,
  };
}

const comment = (text: string) => `(${text.replace(/[()\\\r\n]/g, " ")})`;

/** RFC 8601 §2.2: authserv-id, then one resinfo per method, folded one per line. */
function renderHeader(authservId: string, auth: InboundAuth, m: MailauthResult, heloSpf: { info?: string } | undefined): string {
  const parts: string[] = [];
  const iprev = auth.iprev;
  parts.push(`iprev=${iprev.result} ${comment(iprev.comment)} policy.iprev=${iprev.ip}`);
  if (m.spf && m.spf.info) parts.push(m.spf.info);
  if (auth.spfHelo) {
    parts.push(heloSpf?.info ? heloSpf.info.replace(/smtp\.mailfrom=\S+/, "").replace(/\s+smtp\.helo=/, " smtp.helo=").trim() : `spf=${auth.spfHelo.result} smtp.helo=${auth.spfHelo.domain}`);
  }
  for (const row of m.dkim?.results ?? []) if (row.info) parts.push(row.info);
  if (m.arc && m.arc.info) parts.push(m.arc.info);
  if (m.dmarc && m.dmarc.info) {
    const o = auth.arcOverride;
    // RFC 7489 §6.7: a local policy override is reported, never hidden.
    parts.push(o ? `${m.dmarc.info} ${comment(`treated as pass: the ARC chain sealed by trusted ${o.sealer} says dmarc=pass`)} policy.arc-override=${o.sealer}` : m.dmarc.info);
  }
  return `Authentication-Results: ${authservId};\r\n ${parts.map((p) => p.replace(/\r?\n[ \t]*/g, "\r\n  ")).join(";\r\n ")}\r\n`;
}
