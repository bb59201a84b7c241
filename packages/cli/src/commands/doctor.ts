import { isIP } from "node:net";
import { infraSpec, loadConfig, serviceSpecs } from "@correo/config";
import { dkimTxtRecord, findDkimKey } from "@correo/dkim";
import { DirectoryError, findDomain, listDomains, normalizeDomain } from "@correo/directory";
import { addressCheck, dkimCheck, dmarcCheck, mxCheck, portCheck, ptrCheck, spfCheck, type Check } from "../doctor/records.js";
import { DnsUnreachableError, doctorDns, tcpAnswers } from "../doctor/lookups.js";
import { flag, UsageError, type Command } from "./types.js";

/**
 * `correo doctor [domain]`: for each hosted domain, the DNS records it needs (MX, SPF,
 * DKIM from its own key, DMARC), what is published now and what to change; for this
 * host (CORREO_HOSTNAME), its address, the PTR of that address, and whether the public
 * listeners answer. Exit 0 all good, 1 something to change, 69 DNS unreachable.
 */

/** The public listeners, with the variable that sets each port. */
const LISTENERS = [
  ["SMTP MX", serviceSpecs.submission.smtpMxPort],
  ["SMTP submission", serviceSpecs.submission.smtpSubmissionPort],
  ["SMTP submissions", serviceSpecs.submission.smtpsPort],
  ["IMAP", serviceSpecs.retrieval.imapPort],
  ["IMAPS", serviceSpecs.retrieval.imapsPort],
  ["POP3", serviceSpecs.retrieval.pop3Port],
  ["POP3S", serviceSpecs.retrieval.pop3sPort],
] as const;

export const doctorCommand: Command = {
  usage: "doctor [<domain>] [--resolver <ip[:port]>] [--address <ip>]",
  summary: "check the DNS records of hosted domains (MX, SPF, DKIM, DMARC), this host's PTR and that its ports answer",
  flags: {
    resolver: { type: "string", value: "<ip[:port],…>", help: "DNS servers to ask (default DNS_SERVERS, else the system's)" },
    address: { type: "string", value: "<ip>", help: "this host's public address (default: the addresses of CORREO_HOSTNAME)" },
  },
  async run(ctx) {
    const config = loadConfig({
      hostname: infraSpec.hostname,
      dnsServers: serviceSpecs["relay-queue"].dnsServers,
      ...Object.fromEntries(LISTENERS.map(([, spec], i) => [`port${i}`, spec])),
    }) as { hostname: string; dnsServers?: string } & Record<string, number>;
    const address = flag(ctx, "address");
    if (address !== undefined && !isIP(address)) throw new UsageError(`--address must be an IP address, got '${address}'`);
    let dns;
    try {
      dns = doctorDns(flag(ctx, "resolver") ?? config.dnsServers);
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/^DNS_SERVERS/, flag(ctx, "resolver") ? "--resolver" : "DNS_SERVERS"));
    }

    const only = ctx.args[0];
    let domains: string[];
    if (only !== undefined) {
      const d = await findDomain(ctx.pool, only);
      if (!d) throw new DirectoryError("not_found", `${normalizeDomain(only) ?? only} is not hosted here`);
      domains = [d.name];
    } else {
      domains = (await listDomains(ctx.pool)).map((d) => d.name);
    }

    const hostname = config.hostname;
    try {
      const addresses = address ? [address] : await dns.addresses(hostname);
      const host: Check[] = [];
      if (!address) host.push(addressCheck(hostname, addresses));
      for (const ip of addresses) host.push(ptrCheck(ip, hostname, await dns.ptr(ip)));
      const ports = await Promise.all(
        addresses.flatMap((ip) =>
          LISTENERS.map(async ([what, spec], i) => {
            const port = config[`port${i}`]!;
            const r = await tcpAnswers(ip, port);
            return portCheck(ip, port, `${what}, ${spec.variable}`, r.answered, r.error);
          }),
        ),
      );
      host.push(...ports);

      const report: { domain: string; checks: Check[] }[] = [];
      for (const domain of domains) {
        const key = await findDkimKey(ctx.pool, domain);
        const record = key && { ...dkimTxtRecord(key.domain, key.selector, key.publicKey), publicKey: key.publicKey };
        const checks = [
          mxCheck(domain, hostname, await dns.mx(domain)),
          spfCheck(domain, hostname, addresses, await dns.txt(domain)),
          dkimCheck(domain, record, await dns.txt(record ? record.name : `correo._domainkey.${domain}`)),
          dmarcCheck(domain, await dns.txt(`_dmarc.${domain}`)),
        ];
        report.push({ domain, checks });
      }
      const ok = [...host, ...report.flatMap((d) => d.checks)].every((c) => c.status === "ok");
      ctx.out.result({ ok, hostname, addresses, host, domains: report }, () => {
        const lines: string[] = [];
        const show = (c: Check) => {
          lines.push(`  ${c.status === "ok" ? "ok    " : "CHANGE"}  ${c.check.padEnd(7)} ${c.name}  ${c.type}  ${c.published.length ? c.published.join(" | ") : "(nothing published)"}`);
          if (c.fix) lines.push(`          → ${c.fix}`);
        };
        lines.push(`${hostname} (CORREO_HOSTNAME)`);
        host.forEach(show);
        if (domains.length === 0) lines.push("", "no hosted domains (add one: correo domain add <domain>)");
        for (const d of report) {
          lines.push("", d.domain);
          d.checks.forEach(show);
        }
        lines.push("", ok ? "all good\n" : "something to change (see → above)\n");
        return lines.join("\n");
      });
      return ok ? 0 : 1;
    } catch (err) {
      if (!(err instanceof DnsUnreachableError)) throw err;
      if (ctx.out.json) ctx.out.result({ error: { code: "unavailable", message: err.message } }, () => "");
      else process.stderr.write(`correo: ${err.message}\n`);
      return 69;
    }
  },
};
