import { readFileSync } from "node:fs";
import { accountDoc, addAccount, DirectoryError, findAccount, listAccounts, removeAccount, setAccountEnabled, setPassword, setQuota } from "@correo/directory";
import { table } from "../output.js";
import { formatSize, parseSize } from "../size.js";
import { arg, flag, UsageError, type Command, type CommandContext, type FlagSpec } from "./types.js";

/** --password VALUE, or --password-stdin to read it from standard input (kept out of shell history). */
function password(ctx: CommandContext): string {
  if (ctx.flags["password-stdin"]) return readFileSync(0, "utf8").replace(/\r?\n$/, "");
  const p = flag(ctx, "password");
  if (p === undefined) throw new UsageError("give the password with --password '…' or --password-stdin");
  return p;
}

function size(text: string): number | null {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`'${text}' is not a size: write 1048576, 512K, 100M, 2G or none`);
  return bytes;
}

const passwordFlags: Record<string, FlagSpec> = {
  password: { type: "string", value: "<password>", help: "the password (it shows in shell history; prefer --password-stdin)" },
  "password-stdin": { type: "boolean", help: "read the password from standard input, up to the end of the first line" },
};

export const accountCommands: Record<string, Command> = {
  add: {
    usage: "account add <address> (--password <password> | --password-stdin) [--quota <size>] [--disabled]",
    summary: "create an account with its mailboxes (INBOX, Sent, Drafts, Trash, Junk)",
    flags: {
      ...passwordFlags,
      quota: { type: "string", value: "<size>", help: "largest mailbox size: 1048576, 512K, 100M, 2G or none (default none)" },
      disabled: { type: "boolean", help: "create it disabled: no logins, new mail bounces 5.2.1" },
    },
    async run(ctx) {
      const quota = flag(ctx, "quota");
      const a = await addAccount(ctx.pool, arg(ctx, 0, "address"), password(ctx), {
        quotaBytes: quota === undefined ? null : size(quota),
        enabled: ctx.flags.disabled !== true,
      });
      ctx.out.result({ account: accountDoc(a) }, () => `account ${a.address} added${a.enabled ? "" : " (disabled)"}\n`);
    },
  },
  list: {
    usage: "account list [--domain <domain>]",
    summary: "list accounts",
    flags: { domain: { type: "string", value: "<domain>", help: "only the accounts of this domain" } },
    async run(ctx) {
      const accounts = await listAccounts(ctx.pool, flag(ctx, "domain"));
      const rows = accounts.map((a) => ({ ...a, quota: formatSize(a.quotaBytes) }));
      ctx.out.result({ accounts: accounts.map(accountDoc) }, () => table(rows, ["address", "enabled", "quota", "createdAt"]));
    },
  },
  remove: {
    usage: "account remove <address>",
    summary: "delete an account and its mailboxes",
    flags: {},
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await removeAccount(ctx.pool, address);
      ctx.out.result({ removed: address }, () => `account ${address} removed\n`);
    },
  },
  passwd: {
    usage: "account passwd <address> (--password <password> | --password-stdin)",
    summary: "set an account's password",
    flags: passwordFlags,
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await setPassword(ctx.pool, address, password(ctx));
      // The account as PATCH /v1/admin/accounts/{address} returns it.
      const a = await findAccount(ctx.pool, address);
      if (!a) throw new DirectoryError("not_found", `account ${address} does not exist`);
      ctx.out.result({ account: accountDoc(a) }, () => `password of ${a.address} changed\n`);
    },
  },
  quota: {
    usage: "account quota <address> <size|none>",
    summary: "set (e.g. 2G, 500M) or remove an account's quota",
    flags: {},
    async run(ctx) {
      const a = await setQuota(ctx.pool, arg(ctx, 0, "address"), size(arg(ctx, 1, "size|none")));
      ctx.out.result({ account: accountDoc(a) }, () => `quota of ${a.address}: ${a.quotaBytes === null ? "none" : formatSize(a.quotaBytes)}\n`);
    },
  },
  disable: {
    usage: "account disable <address>",
    summary: "refuse logins and bounce new mail (5.2.1); the mailboxes stay",
    flags: {},
    async run(ctx) {
      const a = await setAccountEnabled(ctx.pool, arg(ctx, 0, "address"), false);
      ctx.out.result({ account: accountDoc(a) }, () => `account ${a.address} disabled\n`);
    },
  },
  enable: {
    usage: "account enable <address>",
    summary: "enable a disabled account",
    flags: {},
    async run(ctx) {
      const a = await setAccountEnabled(ctx.pool, arg(ctx, 0, "address"), true);
      ctx.out.result({ account: accountDoc(a) }, () => `account ${a.address} enabled\n`);
    },
  },
};
