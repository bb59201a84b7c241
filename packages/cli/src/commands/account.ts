import { readFileSync } from "node:fs";
import { addAccount, listAccounts, removeAccount, setPassword } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command, type CommandContext } from "./types.js";

/** --password VALUE, or --password-stdin to read it from standard input (kept out of shell history). */
function password(ctx: CommandContext): string {
  if (ctx.flags["password-stdin"]) return readFileSync(0, "utf8").replace(/\r?\n$/, "");
  const p = flag(ctx, "password");
  if (p === undefined) throw new UsageError("give the password with --password '…' or --password-stdin");
  return p;
}

export const accountCommands: Record<string, Command> = {
  add: {
    usage: "account add <address> (--password <password> | --password-stdin)",
    summary: "create an account with its mailboxes (INBOX, Sent, Drafts, Trash, Junk)",
    async run(ctx) {
      const a = await addAccount(ctx.pool, arg(ctx, 0, "address"), password(ctx));
      ctx.out.result({ account: a }, () => `account ${a.address} added\n`);
    },
  },
  list: {
    usage: "account list [--domain <domain>]",
    summary: "list accounts",
    async run(ctx) {
      const accounts = await listAccounts(ctx.pool, flag(ctx, "domain"));
      ctx.out.result({ accounts }, () => table(accounts, ["address", "enabled", "quotaBytes", "createdAt"]));
    },
  },
  remove: {
    usage: "account remove <address>",
    summary: "delete an account and its mailboxes",
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await removeAccount(ctx.pool, address);
      ctx.out.result({ removed: address }, () => `account ${address} removed\n`);
    },
  },
  passwd: {
    usage: "account passwd <address> (--password <password> | --password-stdin)",
    summary: "set an account's password",
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await setPassword(ctx.pool, address, password(ctx));
      ctx.out.result({ updated: address }, () => `password of ${address} changed\n`);
    },
  },
};
