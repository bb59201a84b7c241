import { parseDuration } from "@correo/config";
import { updateInboundRoute, addInboundRoute, findDomain, findInboundRoute, inboundRouteDoc, listDomains, listInboundRoutes, normalizeDomain, removeInboundRoute, DirectoryError } from "@correo/directory";
import type { Queryable } from "@correo/db";
import { table } from "../output.js";
import { formatSize, parseSize } from "../size.js";
import { arg, flag, UsageError, type Command, type CommandContext, type FlagSpec } from "./types.js";

const settingFlags: Record<string, FlagSpec> = {
  "inline-limit": { type: "string", value: "<size>", help: "attachments up to this size are inline (base64), larger ones a signed link: 0, 512K, 1M (default), 25M at most" },
  "give-up": { type: "string", value: "<duration>", help: "how long a failing endpoint is retried before the fallback: 90s, 15m, 2h, 1d (default), 30d at most" },
  fallback: { type: "string", value: "bounce|mailbox:<address>", help: "then: bounce to the sender with a DSN (default), or deliver to that account's INBOX" },
};

/** --inline-limit, --give-up and --fallback, as the directory takes them. */
function settings(ctx: CommandContext): { inlineLimitBytes?: number; giveUpAfterSeconds?: number; fallback?: string } {
  const inline = flag(ctx, "inline-limit");
  // 0: every attachment as a link.
  const inlineBytes = inline === undefined ? undefined : inline.trim() === "0" ? 0 : parseSize(inline);
  if (inline !== undefined && typeof inlineBytes !== "number") throw new UsageError(`--inline-limit '${inline}' is not a size (like 0, 512K or 1M)`);
  const giveUp = flag(ctx, "give-up");
  const giveUpMs = giveUp === undefined ? undefined : parseDuration(giveUp);
  if (giveUp !== undefined && giveUpMs === undefined) throw new UsageError(`--give-up '${giveUp}' is not a duration (like 15m, 2h or 1d)`);
  const fallback = flag(ctx, "fallback");
  return {
    ...(typeof inlineBytes === "number" ? { inlineLimitBytes: inlineBytes } : {}),
    ...(giveUpMs === undefined ? {} : { giveUpAfterSeconds: Math.round(giveUpMs / 1000) }),
    ...(fallback === undefined ? {} : { fallback }),
  };
}

/**
 * The hosted domain a pattern belongs to: --domain, else the pattern's own domain or the
 * nearest hosted parent of it (`*@in.example.com` → example.com).
 */
async function owningDomain(db: Queryable, pattern: string, given: string | undefined): Promise<string> {
  if (given !== undefined) return normalizeDomain(given) ?? given;
  const at = pattern.lastIndexOf("@");
  const labels = (normalizeDomain(pattern.slice(at + 1)) ?? pattern.slice(at + 1)).split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join(".");
    if (await findDomain(db, candidate)) return candidate;
  }
  throw new DirectoryError("not_found", `no hosted domain holds ${pattern}; add it with 'correo domain add', or name it with --domain`, "pattern");
}

export const routeCommands: Record<string, Command> = {
  add: {
    usage: "route add <address|*@domain> <url> [--domain <domain>] [--inline-limit <size>] [--give-up <duration>] [--fallback bounce|mailbox:<address>]",
    summary: "POST mail for an address (or every address of a domain) to <url> as signed JSON; prints the signing secret once",
    flags: {
      domain: { type: "string", value: "<domain>", help: "the hosted domain the route belongs to (default: the pattern's, or its nearest hosted parent)" },
      ...settingFlags,
    },
    async run(ctx) {
      const pattern = arg(ctx, 0, "address|*@domain");
      const url = arg(ctx, 1, "url");
      const options = settings(ctx);
      const domain = await owningDomain(ctx.pool, pattern, flag(ctx, "domain"));
      const r = await addInboundRoute(ctx.pool, domain, { pattern, url, ...options });
      ctx.out.result(
        { inbound_route: inboundRouteDoc(r, { withSecret: true }) },
        () => `route ${r.id}: mail for ${r.pattern} is POSTed to ${r.url}\nsigning secret (shown once): ${r.secret}\n`,
      );
    },
  },
  list: {
    usage: "route list [--domain <domain>]",
    summary: "list inbound routes (of one domain, or of all)",
    flags: { domain: { type: "string", value: "<domain>", help: "only this domain's routes" } },
    async run(ctx) {
      const only = flag(ctx, "domain");
      const domains = only !== undefined ? [only] : (await listDomains(ctx.pool)).map((d) => d.name);
      const routes = (await Promise.all(domains.map((d) => listInboundRoutes(ctx.pool, d)))).flat();
      const rows = routes.map((r) => ({ ...r, inline: formatSize(r.inlineLimitBytes), giveUp: `${r.giveUpAfterSeconds}s`, fallback: inboundRouteDoc(r).fallback }));
      ctx.out.result({ inbound_routes: routes.map((r) => inboundRouteDoc(r)) }, () => table(rows, ["id", "pattern", "url", "inline", "giveUp", "fallback"]));
    },
  },
  show: {
    usage: "route show <id>",
    summary: "one inbound route (its secret is never shown again)",
    flags: {},
    async run(ctx) {
      const id = arg(ctx, 0, "id");
      const r = await findInboundRoute(ctx.pool, id);
      if (!r) throw new DirectoryError("not_found", `inbound route ${id} does not exist`, "id");
      ctx.out.result({ inbound_route: inboundRouteDoc(r) }, () => table([{ ...r, fallback: inboundRouteDoc(r).fallback }], ["id", "domain", "pattern", "url", "fallback"]));
    },
  },
  update: {
    usage: "route update <id> [--url <url>] [--inline-limit <size>] [--give-up <duration>] [--fallback bounce|mailbox:<address>] [--rotate-secret]",
    summary: "change a route (its pattern stays), or give it a new signing secret, printed once",
    flags: {
      url: { type: "string", value: "<url>", help: "the endpoint to POST to from now on" },
      ...settingFlags,
      "rotate-secret": { type: "boolean", help: "a new signing secret; the old one stops signing at once" },
    },
    async run(ctx) {
      const id = arg(ctx, 0, "id");
      const url = flag(ctx, "url");
      const rotate = ctx.flags["rotate-secret"] === true;
      const change = { ...settings(ctx), ...(url === undefined ? {} : { url }), ...(rotate ? { rotateSecret: true } : {}) };
      if (Object.keys(change).length === 0) throw new UsageError("nothing to change: give --url, --inline-limit, --give-up, --fallback or --rotate-secret");
      const found = await findInboundRoute(ctx.pool, id);
      if (!found) throw new DirectoryError("not_found", `inbound route ${id} does not exist`, "id");
      const r = await updateInboundRoute(ctx.pool, found.domain, id, change);
      ctx.out.result(
        { inbound_route: inboundRouteDoc(r, { withSecret: rotate }) },
        () => `route ${r.id} (${r.pattern}) updated${rotate ? `\nnew signing secret (shown once): ${r.secret}` : ""}\n`,
      );
    },
  },
  remove: {
    usage: "route remove <id>",
    summary: "remove an inbound route (the address reaches its account or alias again, if any)",
    flags: {},
    async run(ctx) {
      const id = arg(ctx, 0, "id");
      const r = await findInboundRoute(ctx.pool, id);
      if (!r) throw new DirectoryError("not_found", `inbound route ${id} does not exist`, "id");
      await removeInboundRoute(ctx.pool, r.domain, id);
      ctx.out.result({ removed: id }, () => `route ${id} (${r.pattern}) removed\n`);
    },
  },
};
