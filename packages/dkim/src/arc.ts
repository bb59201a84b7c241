import { Resolver } from "node:dns/promises";
import { arc, sealMessage } from "mailauth/lib/arc";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import type { SigningKey } from "./sign.js";

/** A DNS TXT lookup as mailauth calls it: (name, "TXT") → records, each an array of strings. */
export type TxtResolver = (name: string, rrtype: string) => Promise<unknown>;

/** TXT lookups through `servers` (ip or ip:port, as DNS_SERVERS lists them; default the system's), for the ARC keys. */
export function txtResolver(servers?: string[], timeoutMs = 5000): TxtResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers?.length) resolver.setServers(servers);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}

export interface SealOptions {
  /** AUTHSERV_ID: whose Authentication-Results the seal repeats (RFC 8601 §2.5). */
  authservId: string;
  /** For the keys of the ARC sets already in the message (the chain validation, `cv`). */
  resolver: TxtResolver;
  signTime: Date;
}

export type SealOutcome =
  | { sealed: true; raw: Buffer; instance: number; cv: "none" | "pass" | "fail" }
  | { sealed: false; reason: string };

const HEADER_END = "\r\n\r\n";

/** The header fields of a message, unfolded (RFC 5322 §2.2.3), each as "Name: value". */
function headerFields(raw: Buffer): string[] {
  const end = raw.indexOf(HEADER_END);
  const header = raw.subarray(0, end < 0 ? raw.length : end).toString("utf8");
  return header.split(/\r\n(?![ \t])/).map((f) => f.replace(/\r\n([ \t])/g, "$1"));
}

/**
 * The results of the top Authentication-Results field with our authserv-id (RFC 8601
 * §2.2: `authserv-id [CFWS] [version] *(";" resinfo)`), the AAR's content (RFC 8617
 * §4.1.1): `authserv-id; results…`. Undefined when no such field is there.
 */
export function ourAuthenticationResults(raw: Buffer, authservId: string): string | undefined {
  for (const field of headerFields(raw)) {
    const m = /^authentication-results[ \t]*:(.*)$/is.exec(field);
    if (!m) continue;
    const value = m[1]!.trim();
    // The authserv-id ends at the first ";", CFWS or version number.
    const id = /^([^\s;()]+)/.exec(value)?.[1];
    if (id?.toLowerCase() === authservId.toLowerCase()) return value.replace(/\s+/g, " ");
  }
  return undefined;
}

/**
 * Adds an ARC set (RFC 8617 §5.1: ARC-Authentication-Results, ARC-Message-Signature,
 * ARC-Seal, instance one above the chain's) to a message we forward, signed with `key`.
 * `cv` is the validation of the chain already in the message (§5.1.1: none when there is
 * none). A chain that failed is not sealed further unless its last set still claimed
 * pass (mailauth's rule, as its own `authenticate` seals): a broken chain stays broken.
 */
export async function sealForwarded(raw: Buffer, key: SigningKey, opts: SealOptions): Promise<SealOutcome> {
  const verified = await dkimVerify(raw, { resolver: opts.resolver } as Parameters<typeof dkimVerify>[1]);
  const chain = (verified as unknown as { arc?: Parameters<typeof arc>[0] }).arc ?? ({ chain: false } as unknown as Parameters<typeof arc>[0]);
  const validation = await arc(chain, { resolver: opts.resolver } as Parameters<typeof arc>[1]);
  const status = validation.status as { result: "none" | "pass" | "fail"; shouldSeal?: boolean; comment?: string };
  if (status.result === "fail" && !status.shouldSeal) {
    return { sealed: false, reason: `the ARC chain already in the message fails (${status.comment ?? "no reason given"}) and is not sealed again` };
  }
  const authResults = ourAuthenticationResults(raw, opts.authservId) ?? `${opts.authservId}; none`;
  const instance = (typeof validation.i === "number" ? validation.i : 0) + 1;
  const seal = {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey,
    signTime: opts.signTime,
    cv: status.result,
    authResults,
    i: instance,
  } as unknown as Parameters<typeof sealMessage>[1];
  const headers = await sealMessage(raw, seal);
  if (headers.length === 0) return { sealed: false, reason: "mailauth wrote no ARC headers" };
  return { sealed: true, raw: Buffer.concat([headers, raw]), instance, cv: status.result };
}
