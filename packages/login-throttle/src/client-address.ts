import { isIP } from "node:net";

/**
 * The client a login attempt is counted against. IPv4 (also IPv4-mapped IPv6, as Node
 * reports peers on a dual-stack socket) by its address; IPv6 by its /64, the
 * smallest prefix one site is normally given (RFC 6177), since a single host can
 * pick any address within it.
 */
export function clientKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (isIP(remoteAddress) === 6) return `${ipv6Groups(remoteAddress).slice(0, 4).join(":")}::/64`;
  return remoteAddress;
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head = "", tail] = address.toLowerCase().split("%")[0]!.split("::");
  const parse = (part: string) => (part ? part.split(":") : []);
  let left = parse(head);
  let right = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 tail (::1.2.3.4) is two groups.
  const v4 = (groups: string[]) => {
    const last = groups.at(-1);
    if (!last || !last.includes(".")) return groups;
    const o = last.split(".").map(Number);
    return [...groups.slice(0, -1), ((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
  };
  if (tail === undefined) left = v4(left);
  else right = v4(right);
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16).toString(16));
}
