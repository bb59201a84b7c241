/**
 * Address forms that old MTAs interpreted as routing instructions, and that turn a
 * server into an open relay when a later hop honours them (the classic relay-test
 * batteries try each): the percent hack `u%victim@hosted` (RFC 1123 §5.2.16 calls it
 * deprecated), UUCP bang paths `victim!u@hosted`, source routes `@hosted:u@victim`
 * (RFC 5321 §4.1.1.3: to be ignored; smtp-server drops the route, leaving the final
 * address, which is then checked as any other), quoted local parts that hide an `@`
 * or a route, and IP-literal domains `u@[192.0.2.1]` that name no hosted domain.
 * Correo hosts none of these forms, so each is refused outright.
 *
 * Returns why `address` is refused, or undefined when it is an ordinary address.
 */
export function relayTrick(address: string): string | undefined {
  if (address.startsWith("@")) return "is a source route";
  const at = address.lastIndexOf("@");
  const local = at >= 0 ? address.slice(0, at) : address;
  const domain = at >= 0 ? address.slice(at + 1) : "";
  if (local.includes('"')) return "has a quoted local part";
  if (local.includes("@")) return "has more than one @";
  if (local.includes("%")) return "uses the percent hack (%)";
  if (local.includes("!")) return "is a bang path (!)";
  if (domain.startsWith("[")) return "names an IP-literal domain";
  if (local.includes(":")) return "is a source route";
  return undefined;
}
