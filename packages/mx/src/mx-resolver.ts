import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * Where mail for a domain goes: a static transport override, else the domain's MX
 * hosts (RFC 5321 §5.1). Addresses are looked up here, through the configured
 * resolvers, so that DNS_SERVERS governs every lookup (nodemailer only gets IPs).
 */

/** One address to try, in order. `host` is the name (for TLS SNI and last_response). */
export interface Target {
  host: string;
  address: string;
  port: number;
}

/** How the targets were found: a transport override, the MX records, or the domain itself (implicit MX). */
export type RouteSource = "transport" | "mx" | "implicit-mx";

export type Route =
  | { kind: "targets"; targets: Target[]; via: RouteSource }
  | { kind: "bounce"; reply: string }
  | { kind: "defer"; reply: string };

/** The part of node:dns's Resolver that routing needs; tests pass a fake. */
export interface Dns {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface TransportOverride {
  host: string;
  port: number;
}

/** What routing (at decision time) and relay-queue (at each attempt) need to find the next hop. */
export interface RouteDeps {
  dns: Dns;
  findTransport(domain: string): Promise<TransportOverride | undefined>;
  /** RELAY_SMTP_PORT: the port of MX hosts. */
  smtpPort: number;
}

/** The name does not exist, or has no records of that type: a permanent answer. */
const NO_SUCH_NAME = "ENOTFOUND";
const NO_DATA = "ENODATA";

function dnsCode(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : "EUNKNOWN";
}

/** Parses DNS_SERVERS (`ip[:port]`, comma-separated) into what Resolver.setServers takes. */
export function parseDnsServers(list: string): string[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      if (isIP(s)) return isIP(s) === 6 ? `[${s}]` : s; // bare address, default port 53
      const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(s);
      if (!m || !isIP(m[1]!)) throw new Error(`DNS_SERVERS: '${s}' is not ip[:port]`);
      return isIP(m[1]!) === 6 ? `[${m[1]}]:${m[2]}` : `${m[1]}:${m[2]}`;
    });
}

export function createDns(servers: string | undefined, timeoutMs = 5000): Dns {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers) resolver.setServers(parseDnsServers(servers));
  return resolver;
}

type Addresses = { kind: "ok"; addresses: string[] } | { kind: "none" } | { kind: "temp"; code: string };

async function addressesOf(dns: Dns, host: string): Promise<Addresses> {
  if (isIP(host)) return { kind: "ok", addresses: [host] };
  const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
  const addresses = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
  if (addresses.length > 0) return { kind: "ok", addresses };
  const temp = [v4, v6]
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => dnsCode(r.reason))
    .find((c) => c !== NO_SUCH_NAME && c !== NO_DATA);
  return temp ? { kind: "temp", code: temp } : { kind: "none" };
}

async function targetsOf(dns: Dns, hosts: string[], port: number, domain: string, via: RouteSource): Promise<Route> {
  const targets: Target[] = [];
  let temp: string | undefined;
  for (const host of hosts) {
    const a = await addressesOf(dns, host);
    if (a.kind === "ok") targets.push(...a.addresses.map((address) => ({ host, address, port })));
    else if (a.kind === "temp") temp ??= `${a.code} looking up ${host}`;
  }
  if (targets.length > 0) return { kind: "targets", targets, via };
  // RFC 3463 X.4.3 directory server failure / X.4.4 unable to route. A mail exchanger
  // with no address is a DNS mistake the domain may fix: defer, the lifetime bounds it.
  if (temp) return { kind: "defer", reply: `4.4.3 DNS failure for ${domain}: ${temp}` };
  return { kind: "defer", reply: `4.4.4 no address for the mail exchangers of ${domain} (${hosts.join(", ")})` };
}

export async function resolveRoute(deps: RouteDeps, domain: string): Promise<Route> {
  // Transport maps win over DNS, as in Postfix: the host is used as it is, no MX lookup.
  const override = await deps.findTransport(domain);
  if (override) return targetsOf(deps.dns, [override.host], override.port, domain, "transport");

  let mx: { exchange: string; priority: number }[];
  try {
    mx = await deps.dns.resolveMx(domain);
  } catch (err) {
    const code = dnsCode(err);
    // RFC 3463 5.1.2: bad destination system address (the domain does not exist).
    if (code === NO_SUCH_NAME) return { kind: "bounce", reply: `550 5.1.2 domain ${domain} does not exist (NXDOMAIN)` };
    if (code !== NO_DATA) return { kind: "defer", reply: `4.4.3 DNS failure looking up MX of ${domain}: ${code}` };
    mx = [];
  }

  const isNull = (r: { exchange: string }) => r.exchange === "" || r.exchange === ".";
  // RFC 7505 §3: a single MX with the root as exchange says "this domain takes no mail".
  if (mx.length === 1 && isNull(mx[0]!)) {
    return { kind: "bounce", reply: `550 5.1.10 domain ${domain} accepts no mail (null MX, RFC 7505)` };
  }
  const real = mx.filter((r) => !isNull(r));
  if (real.length === 0) {
    // RFC 5321 §5.1: no MX records → the domain itself is the implicit MX.
    const a = await addressesOf(deps.dns, domain);
    if (a.kind === "none") return { kind: "bounce", reply: `550 5.1.2 domain ${domain} has neither MX nor address records` };
    if (a.kind === "temp") return { kind: "defer", reply: `4.4.3 DNS failure looking up ${domain}: ${a.code}` };
    return {
      kind: "targets",
      targets: a.addresses.map((address) => ({ host: domain, address, port: deps.smtpPort })),
      via: "implicit-mx",
    };
  }
  // RFC 5321 §5.1: lower preference first. (Shuffling equal preferences is left for later.)
  const hosts = [...new Set([...real].sort((a, b) => a.priority - b.priority).map((r) => r.exchange.replace(/\.$/, "")))];
  return targetsOf(deps.dns, hosts, deps.smtpPort, domain, "mx");
}

/** One line for a delivery's timeline: `mx mx1.example.net[192.0.2.1]:25, …` or the reply. */
export function describeRoute(route: Route): string {
  if (route.kind !== "targets") return route.reply;
  const hops = route.targets.map((t) => (t.host === t.address ? `${t.address}:${t.port}` : `${t.host}[${t.address}]:${t.port}`));
  return `${route.via} ${hops.join(", ")}`;
}
