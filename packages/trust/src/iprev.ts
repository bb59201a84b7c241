import { isIP } from "node:net";
import { isTemporaryDnsError, type TrustResolver } from "./dns-resolver.js";

/** RFC 8601 §2.7.3 results of the iprev check. */
export type IprevResult = "pass" | "fail" | "temperror" | "permerror";

export interface Iprev {
  result: IprevResult;
  /** The client address checked (policy.iprev). */
  ip: string;
  /** The PTR name whose forward lookup contains the address, when the result is pass. */
  name?: string;
  comment: string;
}

/** RFC 8601 §3 leaves the bound to us; Postfix and Sendmail stop after 10 PTR names, as does RFC 7208 §4.6.4 for SPF's ptr. */
const MAX_PTR_NAMES = 10;

/** ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1. */
export function clientAddress(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** The reverse-mapping name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  const halves = ip.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const full = [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
  const nibbles = full.map((g) => g.padStart(4, "0")).join("");
  return `${[...nibbles].reverse().join(".")}.ip6.arpa`;
}

function sameAddress(a: string, b: string): boolean {
  if (isIP(a) !== isIP(b)) return false;
  return isIP(a) === 4 ? a === b : reverseName(a) === reverseName(b);
}

/**
 * iprev (RFC 8601 §3, "forward-confirmed reverse DNS"): the PTR names of the client
 * address, then each name's A (or AAAA) records must contain the address again.
 * pass: one name does. fail: the names resolve, none back to the address.
 * permerror: no PTR record (NXDOMAIN / no data). temperror: a lookup timed out or
 * failed and nothing passed.
 */
export async function checkIprev(rawIp: string, resolver: TrustResolver): Promise<Iprev> {
  const ip = clientAddress(rawIp);
  if (isIP(ip) === 0) return { result: "permerror", ip, comment: "client address is not an IP address" };
  let names: string[];
  try {
    names = (await resolver(reverseName(ip), "PTR")) as string[];
  } catch (err) {
    return isTemporaryDnsError(err)
      ? { result: "temperror", ip, comment: `PTR lookup of ${ip} failed temporarily` }
      : { result: "permerror", ip, comment: `no PTR record for ${ip}` };
  }
  const rrtype = isIP(ip) === 4 ? "A" : "AAAA";
  let temporary = false;
  for (const name of names.slice(0, MAX_PTR_NAMES).map((n) => n.replace(/\.$/, ""))) {
    try {
      const addresses = (await resolver(name, rrtype)) as string[];
      if (addresses.some((a) => sameAddress(a, ip))) return { result: "pass", ip, name, comment: `${ip} is ${name}` };
    } catch (err) {
      if (isTemporaryDnsError(err)) temporary = true;
    }
  }
  if (temporary) return { result: "temperror", ip, comment: `forward lookup of the PTR names of ${ip} failed temporarily` };
  return { result: "fail", ip, comment: `no PTR name of ${ip} (${names.slice(0, 3).join(", ")}) resolves back to it` };
}
