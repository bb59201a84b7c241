import type { Queryable } from "@correo/db";
import { findTransport } from "@correo/directory";
import type { HopPolicy } from "./smtp-client.js";

/**
 * How to talk to a destination's next hop: the TLS policy and SMTP AUTH of its transport
 * override (its own entry, else '*'), with Postfix's smtp_tls_security_level names;
 * without an override, opportunistic STARTTLS (RFC 3207) and no AUTH.
 */
export async function hopPolicyFor(db: Queryable, domain: string): Promise<HopPolicy> {
  const t = await findTransport(db, domain);
  if (!t) return { tls: "may" };
  return t.auth ? { tls: t.tlsPolicy, auth: t.auth } : { tls: t.tlsPolicy };
}
