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
  createdAt: Date;
}

export const ANY_DOMAIN = "*";

interface TransportRow {
  domain: string;
  host: string;
  port: number;
  created_at: Date;
}

const toTransport = (r: TransportRow): Transport => ({ domain: r.domain, host: r.host, port: r.port, createdAt: r.created_at });

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

export async function addTransport(db: Queryable, domain: string, host: string, port = 25): Promise<Transport> {
  const d = transportDomain(domain);
  if (!d) throw new DirectoryError("invalid", `'${domain}' is not a domain name or '*'`);
  const h = transportHost(host);
  if (!h) throw new DirectoryError("invalid", `'${host}' is not a host name or IP address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DirectoryError("invalid", `'${port}' is not a TCP port number (1-65535)`);
  }
  const { rows } = await db.query<TransportRow>(
    `INSERT INTO transports (domain, host, port) VALUES ($1, $2, $3)
     ON CONFLICT (domain) DO NOTHING RETURNING domain, host, port, created_at`,
    [d, h, port],
  );
  const row = rows[0];
  if (!row) throw new DirectoryError("duplicate", `a transport for ${d} already exists`);
  return toTransport(row);
}

export async function listTransports(db: Queryable): Promise<Transport[]> {
  const { rows } = await db.query<TransportRow>("SELECT domain, host, port, created_at FROM transports ORDER BY domain");
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
    `SELECT domain, host, port, created_at FROM transports
      WHERE domain = $1 OR domain = $2 ORDER BY domain = $2 LIMIT 1`,
    [d ?? ANY_DOMAIN, ANY_DOMAIN],
  );
  const row = rows[0];
  return row && toTransport(row);
}
