import { isIP } from "node:net";
import type { Queryable } from "@correo/db";
import { normalizeDomain } from "./address.js";
import { DirectoryError } from "./errors.js";

/**
 * A transport override (Postfix transport maps, minimal): mail for `domain` is relayed
 * to `host:port` instead of the domain's MX hosts. The domain '*' matches every domain.
 */
export interface Transport {
  /** Lower-case A-label domain, or '*' for every domain. */
  domain: string;
  /** Host name or IP address, used as it is (no MX lookup). */
  host: string;
  port: number;
  /** Postfix smtp_tls_security_level: none, may (opportunistic STARTTLS), encrypt, verify. */
  tlsPolicy: TlsPolicy;
  /** SMTP AUTH to the next hop (RFC 4954), when it asks for a login. */
  auth: { username: string; password: string } | null;
  createdAt: Date;
}

export const TLS_POLICIES = ["none", "may", "encrypt", "verify"] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

export interface TransportOptions {
  tlsPolicy?: TlsPolicy;
  auth?: { username: string; password: string };
}

export const ANY_DOMAIN = "*";

interface TransportRow {
  domain: string;
  host: string;
  port: number;
  tls_policy: TlsPolicy;
  auth_username: string | null;
  auth_password: string | null;
  created_at: Date;
}

const COLUMNS = "domain, host, port, tls_policy, auth_username, auth_password, created_at";

const toTransport = (r: TransportRow): Transport => ({
  domain: r.domain,
  host: r.host,
  port: r.port,
  tlsPolicy: r.tls_policy,
  auth: r.auth_username !== null && r.auth_password !== null ? { username: r.auth_username, password: r.auth_password } : null,
  createdAt: r.created_at,
});

function transportDomain(domain: string): string | undefined {
  return domain.trim() === ANY_DOMAIN ? ANY_DOMAIN : normalizeDomain(domain);
}

// RFC 1123 §2.1 host name (single labels allowed, e.g. "localhost"), or an IP literal.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function transportHost(host: string): string | undefined {
  const h = host.trim().replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (isIP(h)) return h;
  return HOST_NAME.test(h) ? h : undefined;
}

export async function addTransport(
  db: Queryable,
  domain: string,
  host: string,
  port = 25,
  opts: TransportOptions = {},
): Promise<Transport> {
  const d = transportDomain(domain);
  if (!d) throw new DirectoryError("invalid", `'${domain}' is not a domain name or '*'`, "domain");
  const h = transportHost(host);
  if (!h) throw new DirectoryError("invalid", `'${host}' is not a host name or IP address`, "host");
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DirectoryError("invalid", `'${port}' is not a TCP port number (1-65535)`, "port");
  }
  const tls = opts.tlsPolicy ?? "may";
  if (!TLS_POLICIES.includes(tls)) {
    throw new DirectoryError("invalid", `TLS policy '${tls}' is not one of ${TLS_POLICIES.join(", ")}`, "tlsPolicy");
  }
  if (opts.auth && (opts.auth.username === "" || opts.auth.password === "")) {
    throw new DirectoryError("invalid", "AUTH needs both a user name and a password", "auth");
  }
  if (opts.auth && tls === "none") {
    throw new DirectoryError("invalid", "AUTH over a connection without TLS would send the password in clear; use --tls may or stricter", "auth");
  }
  const { rows } = await db.query<TransportRow>(
    `INSERT INTO transports (domain, host, port, tls_policy, auth_username, auth_password) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (domain) DO NOTHING RETURNING ${COLUMNS}`,
    [d, h, port, tls, opts.auth?.username ?? null, opts.auth?.password ?? null],
  );
  const row = rows[0];
  if (!row) throw new DirectoryError("duplicate", `a transport for ${d} already exists`);
  return toTransport(row);
}

export async function listTransports(db: Queryable): Promise<Transport[]> {
  const { rows } = await db.query<TransportRow>(`SELECT ${COLUMNS} FROM transports ORDER BY domain`);
  return rows.map(toTransport);
}

export async function removeTransport(db: Queryable, domain: string): Promise<void> {
  const d = transportDomain(domain) ?? domain;
  const { rowCount } = await db.query("DELETE FROM transports WHERE domain = $1", [d]);
  if (!rowCount) throw new DirectoryError("not_found", `no transport for ${d}`);
}

/** The override for `domain`: its own entry first, else the '*' entry, else undefined (use MX). */
export async function findTransport(db: Queryable, domain: string): Promise<Transport | undefined> {
  const d = normalizeDomain(domain);
  const { rows } = await db.query<TransportRow>(
    `SELECT ${COLUMNS} FROM transports
      WHERE domain = $1 OR domain = $2 ORDER BY domain = $2 LIMIT 1`,
    [d ?? ANY_DOMAIN, ANY_DOMAIN],
  );
  const row = rows[0];
  return row && toTransport(row);
}
