/**
 * What a hosted domain needs published in DNS for mail to reach it and for its mail to
 * be trusted, compared with what is published: pure functions over the answers, so that
 * each verdict is testable without a resolver.
 */

export type CheckStatus = "ok" | "change";

export interface Check {
  /** mx, spf, dkim, dmarc; address, ptr, port for the host. */
  check: string;
  /** The DNS owner name, or host:port. */
  name: string;
  /** MX, TXT, A/AAAA, PTR, or TCP. */
  type: string;
  status: CheckStatus;
  /** What should be there, as a zone-file value (or "answers" for a port). */
  expected: string;
  /** What is there now (empty: nothing). */
  published: string[];
  /** What to change, for a person; null when nothing. */
  fix: string | null;
}

const sameName = (a: string, b: string) => a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();

/** RFC 5321 §5.1: mail for the domain goes to its MX hosts; one of them must be this host. */
export function mxCheck(domain: string, hostname: string, mx: { exchange: string; priority: number }[]): Check {
  const published = mx.map((m) => `${m.priority} ${m.exchange}.`);
  const ok = mx.some((m) => sameName(m.exchange, hostname));
  return {
    check: "mx",
    name: domain,
    type: "MX",
    status: ok ? "ok" : "change",
    expected: `10 ${hostname}.`,
    published,
    fix: ok ? null : `publish ${domain}. IN MX 10 ${hostname}.${mx.length ? ` (and remove ${published.join(", ")} unless they relay to this host)` : ""}`,
  };
}

/**
 * RFC 7208: one `v=spf1` record (§4.5: two are a permerror) that lets this host send:
 * `mx` (the MX is this host), `a:<hostname>`, or an ip4:/ip6: of its address.
 */
export function spfCheck(domain: string, hostname: string, addresses: string[], txt: string[]): Check {
  const spf = txt.filter((t) => /^v=spf1(\s|$)/i.test(t));
  const expected = "v=spf1 mx -all";
  const base = { check: "spf", name: domain, type: "TXT", expected, published: spf };
  if (spf.length === 0) return { ...base, status: "change", fix: `publish ${domain}. IN TXT "${expected}"` };
  if (spf.length > 1) return { ...base, status: "change", fix: `keep one SPF record (two are an error, RFC 7208 §4.5): merge them into ${domain}. IN TXT "${expected}"` };
  const terms = spf[0]!.toLowerCase().split(/\s+/).slice(1).map((t) => t.replace(/^[+?~]/, ""));
  const allows = terms.some(
    (t) =>
      t === "mx" ||
      t === `mx:${domain}` ||
      (t.startsWith("a:") && sameName(t.slice(2), hostname)) ||
      addresses.some((ip) => t === `ip4:${ip}` || t === `ip6:${ip}`),
  );
  if (allows) return { ...base, status: "ok", fix: null };
  const fixed = spf[0]!.replace(/^v=spf1/i, "v=spf1 mx");
  return { ...base, status: "change", fix: `the SPF record does not let ${hostname} send: publish ${domain}. IN TXT "${fixed}"` };
}

/** RFC 6376 §3.6.2: the public key of the domain's signing key at <selector>._domainkey. */
export function dkimCheck(domain: string, key: { name: string; value: string; publicKey: string } | undefined, txt: string[]): Check {
  if (!key) {
    return {
      check: "dkim",
      name: `correo._domainkey.${domain}`,
      type: "TXT",
      status: "change",
      expected: "v=DKIM1; k=rsa; p=…",
      published: txt,
      fix: `the domain has no DKIM key, so its mail is not signed: run correo dkim generate ${domain} and publish the record it prints`,
    };
  }
  const p = (t: string) => /(?:^|;)\s*p=([^;]*)/i.exec(t)?.[1]?.replace(/\s+/g, "");
  const ok = txt.some((t) => /^v=DKIM1/i.test(t) && p(t) === key.publicKey);
  return {
    check: "dkim",
    name: key.name,
    type: "TXT",
    status: ok ? "ok" : "change",
    expected: key.value,
    published: txt,
    fix: ok ? null : `${txt.length ? "the published key is not the domain's key: replace it with" : "publish"} the record of correo dkim show ${domain}`,
  };
}

/** RFC 7489 §6.1: one `v=DMARC1` record at _dmarc.<domain> with a policy. */
export function dmarcCheck(domain: string, txt: string[]): Check {
  const name = `_dmarc.${domain}`;
  const dmarc = txt.filter((t) => /^v=DMARC1\s*(;|$)/i.test(t));
  const expected = `v=DMARC1; p=quarantine; rua=mailto:postmaster@${domain}`;
  const ok = dmarc.length === 1 && /;\s*p=(none|quarantine|reject)\s*(;|$)/i.test(dmarc[0]!);
  return {
    check: "dmarc",
    name,
    type: "TXT",
    status: ok ? "ok" : "change",
    expected,
    published: dmarc,
    fix: ok ? null : dmarc.length > 1 ? `keep one DMARC record at ${name}` : `publish ${name}. IN TXT "${expected}"`,
  };
}

/** The host name the MX points at must have an address. */
export function addressCheck(hostname: string, addresses: string[]): Check {
  return {
    check: "address",
    name: hostname,
    type: "A/AAAA",
    status: addresses.length ? "ok" : "change",
    expected: "the host's public address",
    published: addresses,
    fix: addresses.length ? null : `publish ${hostname}. IN A <public address> (or pass --address <ip>)`,
  };
}

/** Receivers check that the client's address maps back to its name (forward-confirmed reverse DNS). */
export function ptrCheck(address: string, hostname: string, names: string[]): Check {
  const ok = names.some((n) => sameName(n, hostname));
  return {
    check: "ptr",
    name: address,
    type: "PTR",
    status: ok ? "ok" : "change",
    expected: `${hostname}.`,
    published: names.map((n) => `${n.replace(/\.$/, "")}.`),
    fix: ok ? null : `ask whoever owns ${address} (the hosting provider) to set its PTR record to ${hostname}`,
  };
}

export function portCheck(address: string, port: number, what: string, answered: boolean, error?: string): Check {
  const name = address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  return {
    check: "port",
    name,
    type: "TCP",
    status: answered ? "ok" : "change",
    expected: `${what} answers`,
    published: answered ? ["answers"] : [error ?? "no answer"],
    fix: answered ? null : `nothing answers on ${name} (${what}): start the service, open the firewall, or map the port`,
  };
}
