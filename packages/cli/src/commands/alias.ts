import { addAlias, aliasDoc, listAliases, removeAlias } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command } from "./types.js";

export const aliasCommands: Record<string, Command> = {
  add: {
    usage: "alias add <address> <target> [<target> …]",
    summary: "deliver mail for <address> to each target: accounts, other aliases or external addresses",
    flags: {},
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      const targets = ctx.args.slice(1);
      if (targets.length === 0) throw new UsageError("missing <target>");
      const a = await addAlias(ctx.pool, address, targets);
      ctx.out.result({ alias: aliasDoc(a) }, () => `alias ${a.address} → ${a.targets.join(", ")}\n`);
    },
  },
  list: {
    usage: "alias list [--domain <domain>]",
    summary: "list aliases and their targets",
    flags: { domain: { type: "string", value: "<domain>", help: "only the aliases of this domain" } },
    async run(ctx) {
      const aliases = await listAliases(ctx.pool, flag(ctx, "domain"));
      const rows = aliases.map((a) => ({ ...a, targets: a.targets.join(", ") }));
      ctx.out.result({ aliases: aliases.map(aliasDoc) }, () => table(rows, ["address", "targets", "createdAt"]));
    },
  },
  remove: {
    usage: "alias remove <address>",
    summary: "remove an alias",
    flags: {},
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await removeAlias(ctx.pool, address);
      ctx.out.result({ removed: address }, () => `alias ${address} removed\n`);
    },
  },
};
