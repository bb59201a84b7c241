import type { Transport } from "@correo/directory";
import { resolveRoute, type Dns, type Route } from "@correo/mx";
import type { HopPolicy } from "./smtp-client.js";

/** Where an attempt goes and how it talks there. */
export interface NextHop {
  route: Route;
  hop: HopPolicy;
}

export interface NextHopDeps {
  dns: Dns;
  /** RELAY_SMTP_PORT: the port of MX hosts. */
  smtpPort: number;
}

/**
 * The route of a destination and the hop policy that goes with it, from its entry in the
 * transport table (read by the attempt's claim): a transport override (its own entry,
 * else '*') names the host and
 * its TLS policy and SMTP AUTH, with Postfix's smtp_tls_security_level names; without
 * one, the MX hosts, opportunistic STARTTLS (RFC 3207) and no AUTH.
 */
export async function nextHop(deps: NextHopDeps, domain: string, transport: Transport | undefined): Promise<NextHop> {
  const route = await resolveRoute({ dns: deps.dns, findTransport: async () => transport, smtpPort: deps.smtpPort }, domain);
  return { route, hop: hopPolicyOf(transport) };
}

function hopPolicyOf(t: Transport | undefined): HopPolicy {
  if (!t) return { tls: "may" };
  return t.auth ? { tls: t.tlsPolicy, auth: t.auth } : { tls: t.tlsPolicy };
}
