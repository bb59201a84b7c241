import { addTransport, listTransports, removeTransport } from "@correo/directory";
import { table } from "../output.js";
import { arg, UsageError, type Command } from "./types.js";

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
    usage: "transport add <domain|*> <host>[:port]",
    summary: "relay mail for <domain> (or every remote domain: *) to a fixed host instead of its MX",
    async run(ctx) {
      const domain = arg(ctx, 0, "domain|*");
      const { host, port } = parseHostPort(arg(ctx, 1, "host[:port]"));
      const t = await addTransport(ctx.pool, domain, host, port);
      ctx.out.result({ transport: t }, () => `mail for ${t.domain} now goes to ${t.host}:${t.port}\n`);
    },
  },
  list: {
    usage: "transport list",
    summary: "list transport overrides",
    async run(ctx) {
      const transports = await listTransports(ctx.pool);
      ctx.out.result({ transports }, () => table(transports, ["domain", "host", "port"]));
    },
  },
  remove: {
    usage: "transport remove <domain|*>",
    summary: "go back to MX lookup for <domain>",
    async run(ctx) {
      const domain = arg(ctx, 0, "domain|*");
      await removeTransport(ctx.pool, domain);
      ctx.out.result({ removed: domain }, () => `transport for ${domain} removed\n`);
    },
  },
};
