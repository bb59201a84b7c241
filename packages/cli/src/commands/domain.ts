import { addDomain, listDomains, removeDomain } from "@correo/directory";
import { table } from "../output.js";
import { arg, type Command } from "./types.js";

export const domainCommands: Record<string, Command> = {
  add: {
    usage: "domain add <domain>",
    summary: "host a domain: mail to it lands in local mailboxes",
    async run(ctx) {
      const d = await addDomain(ctx.pool, arg(ctx, 0, "domain"));
      ctx.out.result({ domain: d }, () => `domain ${d.name} added\n`);
    },
  },
  list: {
    usage: "domain list",
    summary: "list hosted domains",
    async run(ctx) {
      const domains = await listDomains(ctx.pool);
      ctx.out.result({ domains }, () => table(domains, ["name", "accounts", "createdAt"]));
    },
  },
  remove: {
    usage: "domain remove <domain>",
    summary: "stop hosting a domain (deletes its accounts and mailboxes)",
    async run(ctx) {
      const name = arg(ctx, 0, "domain");
      await removeDomain(ctx.pool, name);
      ctx.out.result({ removed: name }, () => `domain ${name} removed\n`);
    },
  },
};
