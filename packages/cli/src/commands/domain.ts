import {
  addDomain,
  addDomainAlias,
  listDomainAliases,
  listDomains,
  removeDomain,
  removeDomainAlias,
  setCatchAll,
  setInboundPolicy,
  findDomain,
  domainAliasDoc,
  domainDoc,
  DirectoryError,
} from "@correo/directory";
import { INBOUND_POLICIES } from "@correo/config";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command } from "./types.js";

export const domainCommands: Record<string, Command> = {
  add: {
    usage: "domain add <domain> [--catch-all <address>]",
    summary: "host a domain: mail to it lands in local mailboxes (IDN in U- or A-labels)",
    flags: { "catch-all": { type: "string", value: "<address>", help: "where mail for unknown users of the domain goes (default: they bounce 5.1.1)" } },
    async run(ctx) {
      const catchAll = flag(ctx, "catch-all");
      const d = await addDomain(ctx.pool, arg(ctx, 0, "domain"), catchAll === undefined ? {} : { catchAll });
      ctx.out.result({ domain: domainDoc(d) }, () => `domain ${d.name}${d.unicodeName !== d.name ? ` (${d.unicodeName})` : ""} added\n`);
    },
  },
  list: {
    usage: "domain list",
    summary: "list hosted domains with their accounts, catch-all and alias domains",
    flags: {},
    async run(ctx) {
      const domains = await listDomains(ctx.pool);
      const rows = domains.map((d) => ({
        ...d,
        unicode: d.unicodeName === d.name ? "-" : d.unicodeName,
        aliasDomains: d.aliases.join(",") || "-",
        inboundPolicy: d.inboundPolicy ?? "default",
      }));
      ctx.out.result({ domains: domains.map(domainDoc) }, () => table(rows, ["name", "unicode", "accounts", "catchAll", "inboundPolicy", "aliasDomains", "createdAt"]));
    },
  },
  remove: {
    usage: "domain remove <domain>",
    summary: "stop hosting a domain (deletes its accounts, aliases and mailboxes)",
    flags: {},
    async run(ctx) {
      const name = arg(ctx, 0, "domain");
      await removeDomain(ctx.pool, name);
      ctx.out.result({ removed: name }, () => `domain ${name} removed\n`);
    },
  },
  "catch-all": {
    usage: "domain catch-all <domain> (<address> | --none)",
    summary: "send mail for unknown users of <domain> to <address>, or stop (--none)",
    flags: { none: { type: "boolean", help: "no catch-all: unknown users bounce 5.1.1" } },
    async run(ctx) {
      const name = arg(ctx, 0, "domain");
      const none = ctx.flags.none === true;
      const address = ctx.args[1];
      if (none === (address !== undefined)) throw new UsageError("give either an <address> or --none");
      const d = await setCatchAll(ctx.pool, name, none ? null : address!);
      ctx.out.result({ domain: domainDoc(d) }, () =>
        d.catchAll ? `unknown users of ${d.name} now go to ${d.catchAll}\n` : `${d.name} has no catch-all; unknown users bounce\n`,
      );
    },
  },
  policy: {
    usage: `domain policy <domain> [${INBOUND_POLICIES.join("|")}|default]`,
    summary: "show or set what inbound mail to <domain> failing DMARC (or SPF -all without DMARC) gets; default: INBOUND_AUTH_POLICY",
    flags: {},
    async run(ctx) {
      const name = arg(ctx, 0, "domain");
      const wanted = ctx.args[1];
      if (wanted === undefined) {
        const d = await findDomain(ctx.pool, name);
        if (!d) throw new DirectoryError("not_found", `domain ${name} does not exist`);
        return ctx.out.result({ domain: domainDoc(d) }, () => `${d.name}: inbound policy ${d.inboundPolicy ?? "default (INBOUND_AUTH_POLICY of the submission service)"}\n`);
      }
      if (wanted !== "default" && !(INBOUND_POLICIES as readonly string[]).includes(wanted)) {
        throw new UsageError(`inbound policy '${wanted}' is not one of ${INBOUND_POLICIES.join(", ")}, default`);
      }
      const d = await setInboundPolicy(ctx.pool, name, wanted === "default" ? null : wanted);
      ctx.out.result({ domain: domainDoc(d) }, () => `${d.name}: inbound policy now ${d.inboundPolicy ?? "default (INBOUND_AUTH_POLICY)"}\n`);
    },
  },
  "alias-add": {
    usage: "domain alias-add <alias-domain> <domain>",
    summary: "make <alias-domain> another name of <domain>: user@alias-domain reaches user@domain",
    flags: {},
    async run(ctx) {
      const a = await addDomainAlias(ctx.pool, arg(ctx, 0, "alias-domain"), arg(ctx, 1, "domain"));
      ctx.out.result({ domain_alias: domainAliasDoc(a) }, () => `${a.name} is now an alias of ${a.domain}\n`);
    },
  },
  "alias-list": {
    usage: "domain alias-list",
    summary: "list alias domains",
    flags: {},
    async run(ctx) {
      const aliases = await listDomainAliases(ctx.pool);
      ctx.out.result({ domain_aliases: aliases.map(domainAliasDoc) }, () => table(aliases, ["name", "domain", "createdAt"]));
    },
  },
  "alias-remove": {
    usage: "domain alias-remove <alias-domain>",
    summary: "remove an alias domain",
    flags: {},
    async run(ctx) {
      const name = arg(ctx, 0, "alias-domain");
      await removeDomainAlias(ctx.pool, name);
      ctx.out.result({ removed: name }, () => `alias domain ${name} removed\n`);
    },
  },
};
