import { Resolver } from "node:dns/promises";
import { connect, isIP } from "node:net";
import { parseDnsServers } from "@correo/mx";

/**
 * The doctor's I/O: DNS questions through the configured resolvers (DNS_SERVERS or
 * --resolver) and TCP connects to the public listeners.
 */

/** The resolver could not be asked at all: no answer, refused. The doctor exits 69. */
export class DnsUnreachableError extends Error {
  constructor(
    readonly servers: string[],
    readonly code: string,
  ) {
    super(`DNS is unreachable (${servers.join(", ")}: ${code}); set DNS_SERVERS or --resolver <ip[:port]>`);
    this.name = "DnsUnreachableError";
  }
}

// c-ares' codes for "the server did not answer" (as opposed to "the name has no such record").
const UNREACHABLE = new Set(["ETIMEOUT", "ECONNREFUSED", "EREFUSED", "ECANCELLED", "ECONNRESET"]);
const NOTHING = new Set(["ENOTFOUND", "ENODATA"]);

export interface DoctorDns {
  mx(name: string): Promise<{ exchange: string; priority: number }[]>;
  /** Each record's strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
  txt(name: string): Promise<string[]>;
  addresses(name: string): Promise<string[]>;
  ptr(address: string): Promise<string[]>;
}

export function doctorDns(servers: string | undefined, timeoutMs = 2000): DoctorDns {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers) resolver.setServers(parseDnsServers(servers));
  const used = resolver.getServers();
  // Nothing published is an empty answer; a resolver that does not answer stops the doctor.
  const ask = async <T>(q: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await q();
    } catch (err) {
      const code = String((err as { code?: string }).code ?? "EUNKNOWN");
      if (NOTHING.has(code)) return [];
      if (UNREACHABLE.has(code)) throw new DnsUnreachableError(used, code);
      throw err;
    }
  };
  return {
    mx: (name) => ask(() => resolver.resolveMx(name)),
    txt: async (name) => (await ask(() => resolver.resolveTxt(name))).map((chunks) => chunks.join("")),
    addresses: async (name) => [...(await ask(() => resolver.resolve4(name))), ...(await ask(() => resolver.resolve6(name)))],
    // resolvePtr, not reverse(): c-ares' reverse() answers from /etc/hosts first.
    ptr: (address) => ask(() => resolver.resolvePtr(reverseName(address))),
  };
}

/** RFC 1035 §3.5 / RFC 3596 §2.5: the PTR owner name of an address. */
export function reverseName(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const all = address.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return `${all.map((g) => g.padStart(4, "0")).join("").split("").reverse().join(".")}.ip6.arpa`;
}

/** Whether something accepts a TCP connection at address:port within the timeout. */
export function tcpAnswers(address: string, port: number, timeoutMs = 3000): Promise<{ answered: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (r: { answered: boolean; error?: string }) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ answered: false, error: `no answer within ${timeoutMs} ms` }));
    socket.once("connect", () => done({ answered: true }));
    socket.once("error", (err: Error & { code?: string }) => done({ answered: false, error: err.code ?? err.message }));
  });
}
