import { loadConfig, webhookAllowHttp } from "@correo/config";
import {
  attemptDoc,
  createEndpoint,
  decodeEventCursor,
  deleteEndpoint,
  endpointDoc,
  listAttempts,
  listEndpoints,
  listEvents,
  replayEvent,
  requireEndpoint,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
  type EndpointChange,
} from "@correo/webhooks";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command, type CommandContext } from "./types.js";

const allowHttp = () => loadConfig({ webhookAllowHttp: webhookAllowHttp() }).webhookAllowHttp === "true";
const now = () => new Date();
const events = (ctx: CommandContext) => flag(ctx, "events")?.split(",").map((t) => t.trim());

function limitOf(ctx: CommandContext, fallback: number): number {
  const text = flag(ctx, "limit");
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit must be 1–1000, not ${text}`);
  return n;
}

const eventsFlag = { type: "string", value: "<type,…>", help: "event types it gets (default all): accepted, delivered, deferred, bounced, expired, suppressed, complained, inbound, endpoint.disabled" } as const;

export const webhookCommands: Record<string, Command> = {
  add: {
    usage: "webhook add <domain> <url> [--events <type,…>] [--description <text>]",
    summary: "create a webhook endpoint; prints its signing secret once",
    flags: { events: eventsFlag, description: { type: "string", value: "<text>", help: "what it is for" } },
    async run(ctx) {
      const r = await createEndpoint(
        ctx.pool,
        arg(ctx, 0, "domain"),
        { url: arg(ctx, 1, "url"), ...(events(ctx) ? { eventTypes: events(ctx) } : {}), description: flag(ctx, "description") ?? null },
        { allowHttp: allowHttp(), now: now() },
      );
      ctx.out.result({ webhook: endpointDoc(r.endpoint, r.secret) }, () => `webhook ${r.endpoint.id} for ${r.endpoint.domain} → ${r.endpoint.url}\nsecret (shown once): ${r.secret}\n`);
    },
  },
  list: {
    usage: "webhook list [--domain <domain>]",
    summary: "list webhook endpoints",
    flags: { domain: { type: "string", value: "<domain>", help: "one domain's only" } },
    async run(ctx) {
      const list = await listEndpoints(ctx.pool, flag(ctx, "domain"));
      const rows = list.map((e) => ({ id: e.id, domain: e.domain, url: e.url, events: e.eventTypes.join(","), enabled: e.enabled ? "yes" : `no (${e.disabledReason})` }));
      ctx.out.result({ webhooks: list.map((e) => endpointDoc(e)) }, () => table(rows, ["id", "domain", "url", "events", "enabled"]));
    },
  },
  show: {
    usage: "webhook show <id>",
    summary: "show one endpoint",
    flags: {},
    async run(ctx) {
      const e = await requireEndpoint(ctx.pool, arg(ctx, 0, "id"));
      ctx.out.result({ webhook: endpointDoc(e) }, () => `${JSON.stringify(endpointDoc(e), null, 2)}\n`);
    },
  },
  update: {
    usage: "webhook update <id> [--url <url>] [--events <type,…>] [--description <text>] [--enable | --disable [--reason <text>]]",
    summary: "change an endpoint; --enable brings back one disabled for failing",
    flags: {
      url: { type: "string", value: "<url>", help: "new URL" },
      events: eventsFlag,
      description: { type: "string", value: "<text>", help: "what it is for" },
      enable: { type: "boolean", help: "enable it" },
      disable: { type: "boolean", help: "disable it (no events are sent while disabled)" },
      reason: { type: "string", value: "<text>", help: "why it is disabled (with --disable)" },
    },
    async run(ctx) {
      if (ctx.flags.enable && ctx.flags.disable) throw new UsageError("--enable or --disable, not both");
      if (flag(ctx, "reason") !== undefined && !ctx.flags.disable) throw new UsageError("--reason goes with --disable");
      const change: EndpointChange = {
        ...(flag(ctx, "url") !== undefined ? { url: flag(ctx, "url")! } : {}),
        ...(events(ctx) ? { eventTypes: events(ctx)! } : {}),
        ...(flag(ctx, "description") !== undefined ? { description: flag(ctx, "description")! } : {}),
        ...(ctx.flags.enable ? { enabled: true } : {}),
        ...(ctx.flags.disable ? { enabled: false, ...(flag(ctx, "reason") ? { disabledReason: flag(ctx, "reason")! } : {}) } : {}),
      };
      if (Object.keys(change).length === 0) throw new UsageError("nothing to change: give --url, --events, --description, --enable or --disable");
      const e = await updateEndpoint(ctx.pool, arg(ctx, 0, "id"), undefined, change, { allowHttp: allowHttp(), now: now() });
      ctx.out.result({ webhook: endpointDoc(e) }, () => `webhook ${e.id} updated (${e.enabled ? "enabled" : `disabled: ${e.disabledReason}`})\n`);
    },
  },
  "rotate-secret": {
    usage: "webhook rotate-secret <id>",
    summary: "new signing secret, printed once; the old one also signs for 24 h",
    flags: {},
    async run(ctx) {
      const r = await rotateSecret(ctx.pool, arg(ctx, 0, "id"), undefined, now());
      ctx.out.result({ webhook: endpointDoc(r.endpoint, r.secret) }, () => `new secret (shown once): ${r.secret}\n`);
    },
  },
  test: {
    usage: "webhook test <id>",
    summary: "send a signed 'test' event now and print the endpoint's answer",
    flags: {},
    async run(ctx) {
      const { event, result } = await sendTestEvent(ctx.pool, arg(ctx, 0, "id"), undefined, { now, timeoutMs: 10_000 });
      const ok = result.status !== null && result.status >= 200 && result.status < 300;
      ctx.out.result(
        { event, status: result.status, ok, duration_ms: result.durationMs, error: result.error, response_excerpt: result.responseExcerpt },
        () => `${ok ? "ok" : "failed"}: ${result.status ?? result.error} in ${result.durationMs} ms${result.responseExcerpt ? `\n${result.responseExcerpt}` : ""}\n`,
      );
      return ok ? 0 : 1;
    },
  },
  attempts: {
    usage: "webhook attempts <id> [--event <event id>] [--limit <n>]",
    summary: "delivery attempts to an endpoint, newest first",
    flags: { event: { type: "string", value: "<event id>", help: "one event's only" }, limit: { type: "string", value: "<n>", help: "how many (default 50)" } },
    async run(ctx) {
      const r = await listAttempts(ctx.pool, arg(ctx, 0, "id"), undefined, { ...(flag(ctx, "event") ? { eventId: flag(ctx, "event")! } : {}), limit: limitOf(ctx, 50) });
      const rows = r.attempts.map((a) => ({ at: a.at.toISOString(), event: a.eventId, type: a.eventType, status: a.status ?? "-", ms: a.durationMs, error: a.error ?? "" }));
      ctx.out.result({ attempts: r.attempts.map(attemptDoc), next_cursor: r.next }, () => table(rows, ["at", "event", "type", "status", "ms", "error"]));
    },
  },
  replay: {
    usage: "webhook replay <id> <event id>",
    summary: "send one event to the endpoint again, now",
    flags: {},
    async run(ctx) {
      const eventId = arg(ctx, 1, "event id");
      const due = await replayEvent(ctx.pool, arg(ctx, 0, "id"), undefined, eventId, now());
      ctx.out.result({ event_id: eventId, webhook_delivery_id: due.id, state: "pending" }, () => `event ${eventId} will be sent again within a second\n`);
    },
  },
  remove: {
    usage: "webhook remove <id>",
    summary: "delete an endpoint and its delivery history",
    flags: {},
    async run(ctx) {
      const id = arg(ctx, 0, "id");
      await deleteEndpoint(ctx.pool, id);
      ctx.out.result({ removed: id }, () => `webhook ${id} removed\n`);
    },
  },
};

export const eventCommands: Record<string, Command> = {
  list: {
    usage: "event list [--domain <d>] [--type <t,…>] [--recipient <addr>] [--message <id>] [--tag <tag>] [--since <time>] [--until <time>] [--cursor <c>] [--limit <n>]",
    summary: "events of the delivery timeline (what webhooks send), newest first",
    flags: {
      domain: { type: "string", value: "<domain>", help: "one domain's" },
      type: { type: "string", value: "<type,…>", help: "event types" },
      recipient: { type: "string", value: "<address>", help: "one recipient's" },
      message: { type: "string", value: "<id>", help: "one message's (its id)" },
      tag: { type: "string", value: "<tag>", help: "messages with this tag" },
      since: { type: "string", value: "<ISO time>", help: "from (inclusive)" },
      until: { type: "string", value: "<ISO time>", help: "to (exclusive)" },
      cursor: { type: "string", value: "<cursor>", help: "next page, from next_cursor" },
      limit: { type: "string", value: "<n>", help: "how many (default 50)" },
    },
    async run(ctx) {
      const time = (name: string) => {
        const v = flag(ctx, name);
        if (v === undefined) return undefined;
        const d = new Date(v);
        if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} '${v}' is not an ISO 8601 time`);
        return d;
      };
      const cursor = flag(ctx, "cursor");
      const before = cursor === undefined ? undefined : decodeEventCursor(cursor);
      if (cursor !== undefined && before === undefined) throw new UsageError(`--cursor '${cursor}' is not a cursor this command printed`);
      const since = time("since");
      const until = time("until");
      const r = await listEvents(ctx.pool, {
        ...(flag(ctx, "domain") ? { domain: flag(ctx, "domain")! } : {}),
        ...(flag(ctx, "type") ? { types: flag(ctx, "type")!.split(",").map((t) => t.trim()) } : {}),
        ...(flag(ctx, "recipient") ? { recipient: flag(ctx, "recipient")! } : {}),
        ...(flag(ctx, "message") ? { messageId: flag(ctx, "message")! } : {}),
        ...(flag(ctx, "tag") ? { tag: flag(ctx, "tag")! } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(before ? { before } : {}),
        limit: limitOf(ctx, 50),
      });
      const rows = r.events.map((e) => ({ at: e.created_at, id: e.id, type: e.type, recipient: String(e.data.recipient ?? "") }));
      ctx.out.result({ events: r.events, next_cursor: r.next }, () => table(rows, ["at", "id", "type", "recipient"]) + (r.next ? `more: --cursor ${r.next}\n` : ""));
    },
  },
};
