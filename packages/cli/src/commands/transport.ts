import { readFileSync } from "node:fs";
import { addTransport, listTransports, removeTransport, TLS_POLICIES, transportDoc, type TlsPolicy, type TransportOptions } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command, type CommandContext } from "./types.js";

/** --tls <policy>, and --user with --password or --password-stdin for SMTP AUTH. */
function transportOptions(ctx: CommandContext): TransportOptions {
  const opts: TransportOptions = {};
  const tls = flag(ctx, "tls");
  if (tls !== undefined) {
    if (!(TLS_POLICIES as readonly string[]).includes(tls)) throw new UsageError(`--tls must be one of ${TLS_POLICIES.join(", ")}`);
    opts.tlsPolicy = tls as TlsPolicy;
  }
  const user = flag(ctx, "user");
  const password = ctx.flags["password-stdin"] ? readFileSync(0, "utf8").replace(/\r?\n$/, "") : flag(ctx, "password");
  if ((user === undefined) !== (password === undefined)) throw new UsageError("SMTP AUTH needs both --user and --password (or --password-stdin)");
  if (user !== undefined && password !== undefined) opts.auth = { username: user, password };
  return opts;
}

/** `host`, `host:port`, `[v6]:port` → host and port (default 25). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw new UsageError(`'${text}' is not host[:port]`);
  const port = m[2] === undefined ? 25 : Number(m[2]);
  if (port < 1 || port > 65535) throw new UsageError(`port ${m[2]} is out of range`);
  return { host: m[1]!, port };
}

export const transportCommands: Record<string, Command> = {
  add: {
    usage: "transport add <domain|*> <host>[:port] [--tls none|may|encrypt|verify] [--user <name> --password <secret>]",
    summary: "relay mail for <domain> (or every remote domain: *) to a fixed host instead of its MX",
    flags: {
      tls: { type: "string", value: "none|may|encrypt|verify", help: "TLS to the host: none, may (STARTTLS if offered, default), encrypt (required), verify (required, certificate checked)" },
      user: { type: "string", value: "<name>", help: "SMTP AUTH user name at the host" },
      password: { type: "string", value: "<secret>", help: "SMTP AUTH password (with --user)" },
      "password-stdin": { type: "boolean", help: "read the SMTP AUTH password from standard input" },
    },
    async run(ctx) {
      const domain = arg(ctx, 0, "domain|*");
      const { host, port } = parseHostPort(arg(ctx, 1, "host[:port]"));
      const t = await addTransport(ctx.pool, domain, host, port, transportOptions(ctx));
      ctx.out.result({ transport: transportDoc(t) }, () => `mail for ${t.domain} now goes to ${t.host}:${t.port} (TLS ${t.tlsPolicy}${t.auth ? `, AUTH as ${t.auth.username}` : ""})\n`);
    },
  },
  list: {
    usage: "transport list",
    summary: "list transport overrides",
    flags: {},
    async run(ctx) {
      // The AUTH password is never printed: only the user name.
      const transports = await listTransports(ctx.pool);
      const rows = transports.map((t) => ({ ...t, tls: t.tlsPolicy, authUser: t.auth?.username ?? "-" }));
      ctx.out.result({ transports: transports.map(transportDoc) }, () => table(rows, ["domain", "host", "port", "tls", "authUser"]));
    },
  },
  remove: {
    usage: "transport remove <domain|*>",
    summary: "go back to MX lookup for <domain>",
    flags: {},
    async run(ctx) {
      const domain = arg(ctx, 0, "domain|*");
      await removeTransport(ctx.pool, domain);
      ctx.out.result({ removed: domain }, () => `transport for ${domain} removed\n`);
    },
  },
};
