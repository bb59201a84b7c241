import { createSocket, type Socket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";
import * as packet from "dns-packet";
import { parseDnsServers } from "@correo/mx";

/**
 * The DNS resolver mailauth is given (`resolver(name, rrtype)`, shaped like node's
 * `dns.promises.resolve`): A/AAAA/PTR as strings, TXT as string chunks per record, MX as
 * {exchange, priority}. Errors carry node's codes, which mailauth reads: ENOTFOUND
 * (NXDOMAIN) and ENODATA (no record of the type) are answers; ETIMEOUT, ESERVFAIL and
 * EREFUSED are temporary and become `temperror` (RFC 8601 §2.7.2, RFC 7208 §2.6.6).
 *
 * It talks to the configured servers itself (dns-packet over UDP, TCP when truncated):
 * node's Resolver reports TTLs for A/AAAA only, and the TXT answers (SPF, DKIM keys,
 * DMARC) are the ones worth caching within their TTL (RFC 1035 §3.2.1).
 */
export type DnsAnswer = string[] | string[][] | { exchange: string; priority: number }[];
export type TrustResolver = (name: string, rrtype: string) => Promise<DnsAnswer>;

export interface TrustResolverOptions {
  /** DNS_SERVERS (`ip[:port]`, comma-separated); unset: the system's resolvers. */
  servers?: string | undefined;
  /** Whole budget of one lookup over all servers; past it, ETIMEOUT (a temporary error). */
  timeoutMs?: number;
  /** Most answers kept; the least recently used go first. */
  maxEntries?: number;
  /** How long NXDOMAIN / no-data answers are kept at most (RFC 2308 §5 allows the SOA minimum; we keep it brief). */
  negativeTtlMs?: number;
  /** Longest any positive answer is kept, whatever its TTL. */
  maxTtlMs?: number;
  now?: () => number;
}

export class DnsError extends Error {
  constructor(
    readonly code: "ENOTFOUND" | "ENODATA" | "ETIMEOUT" | "ESERVFAIL" | "EREFUSED" | "EBADRESP",
    name: string,
    rrtype: string,
  ) {
    super(`${rrtype} ${name}: ${code}`);
    this.name = "DnsError";
  }
}

/** True for the errors that say "try again later", not "there is nothing". */
export function isTemporaryDnsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code !== "ENOTFOUND" && code !== "ENODATA";
}

const SUPPORTED = new Set(["A", "AAAA", "TXT", "MX", "PTR", "CNAME", "NS"]);

interface Server {
  host: string;
  port: number;
}

type Entry = { expiresAt: number; answer: DnsAnswer } | { expiresAt: number; error: DnsError };

function toServers(list: string | undefined): Server[] {
  const specs = list && list.trim() !== "" ? parseDnsServers(list) : getServers();
  return specs.map((s) => {
    if (isIP(s)) return { host: s, port: 53 };
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s)!;
    return { host: m[1]!, port: Number(m[2]) };
  });
}

export function createTrustResolver(opts: TrustResolverOptions = {}): TrustResolver & { cacheSize(): number } {
  const servers = toServers(opts.servers);
  if (servers.length === 0) throw new Error("DNS_SERVERS: no resolver configured and none in the system's configuration");
  const timeoutMs = opts.timeoutMs ?? 3000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const negativeTtlMs = opts.negativeTtlMs ?? 60_000;
  const maxTtlMs = opts.maxTtlMs ?? 3_600_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<DnsAnswer>>();

  const remember = (key: string, entry: Entry) => {
    cache.delete(key);
    cache.set(key, entry);
    // Map keeps insertion order: the first key is the least recently used.
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  const lookup = async (name: string, rrtype: string): Promise<DnsAnswer> => {
    const type = rrtype.toUpperCase();
    if (!SUPPORTED.has(type)) throw new DnsError("EBADRESP", name, type);
    const qname = name.replace(/\.$/, "").toLowerCase();
    const key = `${type} ${qname}`;
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now()) {
      remember(key, hit);
      if ("error" in hit) throw hit.error;
      return hit.answer;
    }
    let pending = inFlight.get(key);
    if (!pending) {
      pending = query(servers, qname, type as packet.RecordType, timeoutMs).then(
        (res) => {
          const entry = interpret(res, qname, type, negativeTtlMs, maxTtlMs, now());
          remember(key, entry);
          if ("error" in entry) throw entry.error;
          return entry.answer;
        },
      );
      inFlight.set(key, pending);
      const clear = () => inFlight.delete(key);
      pending.then(clear, clear);
    }
    return pending;
  };
  return Object.assign(lookup, { cacheSize: () => cache.size });
}

function interpret(res: packet.Packet, name: string, type: string, negativeTtlMs: number, maxTtlMs: number, at: number): Entry {
  const rcode = (res as { rcode?: string }).rcode ?? "NOERROR";
  if (rcode === "NXDOMAIN" || rcode === "NOERROR") {
    const answers = (res.answers ?? []).filter((a) => a.type === type);
    if (rcode === "NXDOMAIN" || answers.length === 0) {
      // RFC 2308 §5: a negative answer lives for the SOA's minimum at most.
      const soa = (res.authorities ?? []).find((a) => a.type === "SOA") as { ttl?: number } | undefined;
      const ttlMs = Math.min(negativeTtlMs, soa?.ttl !== undefined ? soa.ttl * 1000 : negativeTtlMs);
      return { expiresAt: at + ttlMs, error: new DnsError(rcode === "NXDOMAIN" ? "ENOTFOUND" : "ENODATA", name, type) };
    }
    const ttl = Math.min(...answers.map((a) => (a as { ttl?: number }).ttl ?? 0));
    return { expiresAt: at + Math.min(ttl * 1000, maxTtlMs), answer: decode(answers, type) };
  }
  // SERVFAIL, REFUSED and the rest are the server's trouble, not an answer: never cached.
  throw new DnsError(rcode === "REFUSED" ? "EREFUSED" : "ESERVFAIL", name, type);
}

function decode(answers: packet.Answer[], type: string): DnsAnswer {
  switch (type) {
    case "TXT":
      return answers.map((a) => {
        const data = (a as { data: Buffer | string | (Buffer | string)[] }).data;
        return (Array.isArray(data) ? data : [data]).map((c) => c.toString());
      });
    case "MX":
      return answers.map((a) => {
        const d = (a as packet.MxAnswer).data;
        return { exchange: d.exchange, priority: d.preference ?? 0 };
      });
    default:
      return answers.map((a) => String((a as { data: unknown }).data));
  }
}

/** One lookup: each server in turn gets its share of the budget, UDP first, TCP when the reply is truncated. */
async function query(servers: Server[], name: string, type: packet.RecordType, timeoutMs: number): Promise<packet.Packet> {
  const share = Math.max(1, Math.floor(timeoutMs / servers.length));
  let lastError: unknown = new DnsError("ETIMEOUT", name, type);
  for (const server of servers) {
    try {
      const res = await udpQuery(server, name, type, share);
      if (((res.flags ?? 0) & packet.TRUNCATED_RESPONSE) !== 0) return await tcpQuery(server, name, type, share);
      return res;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function request(name: string, type: packet.RecordType): packet.Packet & { id: number } {
  return {
    id: randomInt(0, 65536),
    type: "query",
    flags: packet.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
    // RFC 6891: EDNS0, so that 2048-bit DKIM keys fit in one UDP reply.
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096 } as packet.Answer],
  };
}

function udpQuery(server: Server, name: string, type: packet.RecordType, timeoutMs: number): Promise<packet.Packet> {
  const req = request(name, type);
  return new Promise((resolve, reject) => {
    const socket: Socket = createSocket(isIP(server.host) === 6 ? "udp6" : "udp4");
    const timer = setTimeout(() => finish(new DnsError("ETIMEOUT", name, type)), timeoutMs);
    const finish = (err: Error | null, res?: packet.Packet) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(res!);
    };
    socket.on("error", (err) => finish(err));
    socket.on("message", (msg) => {
      let res: packet.Packet;
      try {
        res = packet.decode(msg);
      } catch {
        return; // not a DNS reply: keep waiting for the real one
      }
      // RFC 5452 §4: accept only the reply to our id and question.
      if (res.id !== req.id || res.questions?.[0]?.name.toLowerCase() !== name) return;
      finish(null, res);
    });
    socket.send(packet.encode(req), server.port, server.host, (err) => err && finish(err));
  });
}

function tcpQuery(server: Server, name: string, type: packet.RecordType, timeoutMs: number): Promise<packet.Packet> {
  const req = request(name, type);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new DnsError("ETIMEOUT", name, type)), timeoutMs);
    const finish = (err: Error | null, res?: packet.Packet) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    socket.on("error", (err) => finish(err));
    socket.on("connect", () => socket.write(packet.streamEncode(req)));
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      try {
        finish(null, packet.streamDecode(buffered));
      } catch (err) {
        finish(err as Error);
      }
    });
  });
}
