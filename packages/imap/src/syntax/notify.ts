/**
 * RFC 5465 §8 NOTIFY syntax, parsed into what the session watches, and the §6 mailbox
 * filters as pure functions. Mailbox names come back as sent (astrings); the command
 * decodes them (modified UTF-7, INBOX) like every other mailbox argument.
 */
import { textOf, type Token } from "../parser.js";

/** The events Correo reports (RFC 5465 §5.1–§5.5). */
export type NotifyEvent = "MessageNew" | "MessageExpunge" | "FlagChange" | "MailboxName" | "SubscriptionChange";
export const SUPPORTED_EVENTS: readonly NotifyEvent[] = ["MessageNew", "MessageExpunge", "FlagChange", "MailboxName", "SubscriptionChange"];
/** RFC 5465 §5 / RFC 5464 events Correo knows of but does not report: NO [BADEVENT]. */
const UNSUPPORTED_EVENTS = new Set(["ANNOTATIONCHANGE", "MAILBOXMETADATACHANGE", "SERVERMETADATACHANGE"]);
const MESSAGE_EVENTS = new Set<NotifyEvent>(["MessageNew", "MessageExpunge", "FlagChange"]);

export type MailboxFilter<Name = Token> =
  | { kind: "selected"; delayed: boolean }
  | { kind: "inboxes" }
  | { kind: "personal" }
  | { kind: "subscribed" }
  | { kind: "subtree"; names: readonly Name[] }
  | { kind: "mailboxes"; names: readonly Name[] };

export interface EventGroup<Name = Token> {
  filter: MailboxFilter<Name>;
  /** Empty: NONE (no events for these mailboxes). */
  events: Set<NotifyEvent>;
}

export type NotifyRequest<Name = Token> = { none: true } | { none: false; status: boolean; groups: EventGroup<Name>[] };

/** What the command answers for a request it will not take: BAD (syntax) or NO [BADEVENT] (RFC 5465 §8, §3.1). */
export class NotifyError extends Error {
  constructor(
    readonly status: "BAD" | "NO",
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const word = (t: Token | undefined) => (t?.type === "atom" ? t.value.toUpperCase() : "");

/** RFC 5465 §8: `NONE` / `SET [STATUS] event-group *(SP event-group)`. */
export function parseNotify(args: readonly Token[]): NotifyRequest {
  const verb = word(args[0]);
  if (verb === "NONE") {
    if (args.length !== 1) throw new NotifyError("BAD", "NOTIFY NONE takes no arguments");
    return { none: true };
  }
  if (verb !== "SET") throw new NotifyError("BAD", "NOTIFY needs SET or NONE");
  let i = 1;
  const status = word(args[i]) === "STATUS";
  if (status) i++;
  if (i >= args.length) throw new NotifyError("BAD", "NOTIFY SET needs at least one event group");
  const groups: EventGroup[] = [];
  let selectedSeen = false;
  for (; i < args.length; i++) {
    const g = args[i]!;
    if (g.type !== "list") throw new NotifyError("BAD", `NOTIFY SET: an event group is a parenthesized (filter events), not ${textOf(g) ?? "a string"}`);
    const group = eventGroup(g.items);
    if (group.filter.kind === "selected") {
      if (selectedSeen) throw new NotifyError("BAD", "NOTIFY SET: SELECTED (or SELECTED-DELAYED) given twice");
      selectedSeen = true;
    }
    groups.push(group);
  }
  return { none: false, status, groups };
}

function eventGroup(items: readonly Token[]): EventGroup {
  const kind = word(items[0]);
  let filter: MailboxFilter;
  let next = 1;
  switch (kind) {
    case "SELECTED":
    case "SELECTED-DELAYED":
      filter = { kind: "selected", delayed: kind === "SELECTED-DELAYED" };
      break;
    case "INBOXES":
    case "PERSONAL":
    case "SUBSCRIBED":
      filter = { kind: kind.toLowerCase() as "inboxes" };
      break;
    case "SUBTREE":
    case "MAILBOXES": {
      const names = items[1];
      if (!names) throw new NotifyError("BAD", `NOTIFY SET: ${kind} needs one mailbox or a parenthesized list of them`);
      const list = names.type === "list" ? names.items : [names];
      if (list.length === 0 || list.some((n) => n.type === "list")) throw new NotifyError("BAD", `NOTIFY SET: ${kind} needs one mailbox or a parenthesized list of them`);
      filter = { kind: kind.toLowerCase() as "subtree", names: [...list] };
      next = 2;
      break;
    }
    default:
      throw new NotifyError("BAD", `NOTIFY SET: unknown mailbox filter ${textOf(items[0]) ?? "(none)"}`);
  }
  const eventsToken = items[next];
  if (!eventsToken || items.length !== next + 1) throw new NotifyError("BAD", "NOTIFY SET: an event group is a mailbox filter and then (events) or NONE");
  const events = new Set<NotifyEvent>();
  if (eventsToken.type === "atom" && eventsToken.value.toUpperCase() === "NONE") return { filter, events };
  if (eventsToken.type !== "list" || eventsToken.items.length === 0) throw new NotifyError("BAD", "NOTIFY SET: events are a parenthesized list, or NONE");
  const list = eventsToken.items;
  for (let k = 0; k < list.length; k++) {
    const t = list[k]!;
    const name = word(t);
    const event = SUPPORTED_EVENTS.find((e) => e.toUpperCase() === name);
    if (!event) {
      if (UNSUPPORTED_EVENTS.has(name)) throw new NotifyError("NO", `NOTIFY: ${textOf(t)} is not reported here`, `BADEVENT (${SUPPORTED_EVENTS.join(" ")})`);
      throw new NotifyError("BAD", `NOTIFY SET: unknown event ${textOf(t) ?? "(list)"}`);
    }
    if (event === "MessageNew" && list[k + 1]?.type === "list") {
      // RFC 5465 §5.1: fetch attributes after MessageNew are for the selected mailbox only.
      if (filter.kind !== "selected") throw new NotifyError("BAD", "NOTIFY SET: MessageNew fetch attributes are allowed with SELECTED only");
      throw new NotifyError("NO", "NOTIFY: MessageNew with fetch attributes is not supported; the client FETCHes after EXISTS", `BADEVENT (${SUPPORTED_EVENTS.join(" ")})`);
    }
    if (filter.kind === "selected" && !MESSAGE_EVENTS.has(event)) throw new NotifyError("BAD", `NOTIFY SET: ${event} is a mailbox event; SELECTED takes message events only (RFC 5465 §6.1)`);
    events.add(event);
  }
  return { filter, events };
}

/**
 * RFC 5465 §6: whether a (non-selected) mailbox falls under a filter. INBOXES: where the
 * mailbox service delivers, INBOX (and Junk, by its special use); PERSONAL: every mailbox
 * (Correo has the personal namespace only); SUBTREE: the mailbox and its descendants.
 */
export function filterMatches(filter: MailboxFilter<string>, box: { name: string; specialUse: string | null; subscribed: boolean }, delimiter = "/"): boolean {
  switch (filter.kind) {
    case "selected":
      return false;
    case "inboxes":
      return box.name === "INBOX" || box.specialUse === "\\Junk";
    case "personal":
      return true;
    case "subscribed":
      return box.subscribed;
    case "subtree":
      return filter.names.some((n) => box.name === n || box.name.startsWith(n + delimiter));
    case "mailboxes":
      return filter.names.includes(box.name);
  }
}

/** The events of the first group whose (non-selected) filter takes the mailbox (RFC 5465 §6: the first match applies). */
export function eventsFor(groups: readonly EventGroup<string>[], box: { name: string; specialUse: string | null; subscribed: boolean }): Set<NotifyEvent> | undefined {
  return groups.find((g) => filterMatches(g.filter, box))?.events;
}

/**
 * RFC 5465 §5.1–§5.3 (and the initial STATUS of §3.1): the STATUS items that tell a client
 * about a non-selected mailbox's message events, in Dovecot's choice: MessageNew gives
 * MESSAGES UIDNEXT UIDVALIDITY, MessageExpunge MESSAGES, FlagChange UIDVALIDITY HIGHESTMODSEQ.
 */
export function statusItemsFor(events: ReadonlySet<NotifyEvent>): string[] {
  const items = new Set<string>();
  if (events.has("MessageNew") || events.has("MessageExpunge")) items.add("MESSAGES");
  if (events.has("MessageNew")) {
    items.add("UIDNEXT");
    items.add("UIDVALIDITY");
  }
  if (events.has("FlagChange")) {
    items.add("UIDVALIDITY");
    items.add("HIGHESTMODSEQ");
  }
  return ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "HIGHESTMODSEQ"].filter((i) => items.has(i));
}
