import {
  addSuppression,
  allSuppressions,
  CSV_HEADER,
  csvLines,
  listSuppressions,
  removeSuppression,
  suppressionDoc,
  SUPPRESSION_REASONS,
  type SuppressionPosition,
  type SuppressionReason,
} from "@correo/suppression";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command } from "./types.js";

// The list's cursor, as the HTTP API's: base64url of "<created-at microseconds>|<address>".
const encodeCursor = (p: SuppressionPosition) => Buffer.from(`${p.createdAtMicros}|${p.address}`, "utf8").toString("base64url");
function decodeCursor(text: string): SuppressionPosition {
  const m = /^(\d{1,20})\|([^\r\n]{3,320})$/.exec(Buffer.from(text, "base64url").toString("utf8"));
  if (!m) throw new UsageError("--cursor is not a cursor this command (or the API) gave");
  return { createdAtMicros: m[1]!, address: m[2]! };
}

const domainFlag = { type: "string", value: "<domain>", help: "the hosted (sending) domain whose list it is (required)" } as const;

function domainOf(ctx: Parameters<Command["run"]>[0]): string {
  const domain = flag(ctx, "domain");
  if (!domain) throw new UsageError("--domain is required");
  return domain;
}

export const suppressionCommands: Record<string, Command> = {
  add: {
    usage: "suppression add <address> --domain <domain> [--detail <text>]",
    summary: "put an address on a domain's suppression list (reason manual): mail from the domain to it is not sent",
    flags: { domain: domainFlag, detail: { type: "string", value: "<text>", help: "why, shown with the entry" } },
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      const detail = flag(ctx, "detail");
      const r = await addSuppression(ctx.pool, { domain: domainOf(ctx), address, reason: "manual", ...(detail ? { detail } : {}), at: new Date() });
      ctx.out.result({ suppression: suppressionDoc(r.suppression) }, () =>
        r.created ? `${r.suppression.address} suppressed\n` : `${r.suppression.address} was already suppressed (${r.suppression.reason} since ${r.suppression.createdAt.toISOString()})\n`,
      );
    },
  },
  remove: {
    usage: "suppression remove <address> --domain <domain>",
    summary: "take an address off a domain's suppression list: mail to it is attempted again",
    flags: { domain: domainFlag },
    async run(ctx) {
      const address = arg(ctx, 0, "address");
      await removeSuppression(ctx.pool, domainOf(ctx), address);
      ctx.out.result({ removed: address.toLowerCase() }, () => `${address.toLowerCase()} no longer suppressed\n`);
    },
  },
  list: {
    usage: "suppression list --domain <domain> [--reason hard-bounce|complaint|manual] [--limit <n>] [--cursor <cursor>]",
    summary: "list a domain's suppression list, newest first, a page at a time",
    flags: {
      domain: domainFlag,
      reason: { type: "string", value: "<reason>", help: "only entries of this reason: hard-bounce, complaint or manual" },
      limit: { type: "string", value: "<n>", help: "entries per page, 1-1000 (default 100)" },
      cursor: { type: "string", value: "<cursor>", help: "the next_cursor of the previous page" },
    },
    async run(ctx) {
      const reason = flag(ctx, "reason");
      if (reason !== undefined && !SUPPRESSION_REASONS.includes(reason as SuppressionReason)) {
        throw new UsageError(`--reason must be one of ${SUPPRESSION_REASONS.join(", ")}, got '${reason}'`);
      }
      const limitText = flag(ctx, "limit") ?? "100";
      if (!/^(?:[1-9]\d{0,2}|1000)$/.test(limitText)) throw new UsageError(`--limit must be a whole number from 1 to 1000, got '${limitText}'`);
      const cursor = flag(ctx, "cursor");
      const page = await listSuppressions(ctx.pool, domainOf(ctx), {
        limit: Number(limitText),
        ...(cursor ? { after: decodeCursor(cursor) } : {}),
        ...(reason ? { reason: reason as SuppressionReason } : {}),
      });
      const next = page.next ? encodeCursor(page.next) : null;
      ctx.out.result(
        { data: page.entries.map(suppressionDoc), next_cursor: next },
        () => table(page.entries, ["address", "reason", "createdAt", "detail"]) + (next ? `next page: --cursor ${next}\n` : ""),
      );
    },
  },
  export: {
    usage: "suppression export --domain <domain>",
    summary: "print a domain's whole suppression list as CSV (RFC 4180; --json: one document)",
    flags: { domain: domainFlag },
    async run(ctx) {
      const domain = domainOf(ctx);
      if (ctx.out.json) {
        const all = [];
        for await (const page of allSuppressions(ctx.pool, domain)) all.push(...page.map(suppressionDoc));
        ctx.out.result({ data: all }, () => "");
        return;
      }
      // Checks the domain before the header line goes out.
      await listSuppressions(ctx.pool, domain, { limit: 0 });
      process.stdout.write(CSV_HEADER);
      for await (const page of allSuppressions(ctx.pool, domain)) process.stdout.write(csvLines(page));
    },
  },
};
