/**
 * RFC 5465 NOTIFY, the session's side: what it watches, and the push that tells the client
 * what changed, outside any command. Non-selected mailboxes are compared with what this
 * session last told about them (STATUS items, names, subscriptions), so a duplicate, lost or
 * coalesced wake-up does no harm: any wake-up (a mailbox.changed of the account, a
 * mailbox command of a session in this process, or the poll) looks at everything again.
 */
import { atom, type ImapValue } from "./encoder.js";
import type { CommandSession } from "./command.js";
import { isRefusal, type MailboxInfo } from "./storage.js";
import { eventsFor, statusItemsFor, type EventGroup, type NotifyEvent } from "./syntax/notify.js";
import { nameValue } from "./commands/list.js";
import { statusValues } from "./commands/status.js";

/** How often NOTIFY also looks without a wake-up: mailbox and subscription changes made through another retrieval copy arrive no later. */
export const NOTIFY_POLL_MS = 30_000;

export interface NotifyState {
  status: boolean;
  /** The groups with non-selected filters, names resolved. */
  groups: EventGroup<string>[];
  /** The SELECTED (or SELECTED-DELAYED) group's events, if there is one. */
  selected?: { delayed: boolean; events: Set<NotifyEvent> };
  /** Per mailbox name: the STATUS items and values last told (or found at NOTIFY SET). */
  told: Map<string, string>;
  mailboxes: Map<string, MailboxInfo>;
  subscriptions: Set<string>;
  stop: () => void;
}

const DELIMITER = "/";

/** RFC 5465 §5.1–§5.3: the STATUS of every mailbox under a message event whose values changed since last told; `initial` (SET STATUS, §3.1) tells them all. */
export async function pushStatus(session: CommandSession, state: NotifyState, boxes: readonly MailboxInfo[], mode: "initial" | "baseline" | "changes"): Promise<void> {
  for (const box of boxes) {
    if (box.name === session.selected?.name) continue;
    const events = eventsFor(state.groups, box);
    const items = events ? statusItemsFor(events) : [];
    if (items.length === 0) continue;
    const info = await session.storage.status(session.user!, box.name);
    if (isRefusal(info)) continue;
    const values = statusValues(items, info, undefined);
    const key = JSON.stringify(values);
    const before = state.told.get(box.name);
    state.told.set(box.name, key);
    if (mode === "baseline" || (mode === "changes" && before === key)) continue;
    await session.send([atom("STATUS"), nameValue(session, box.name), values]);
  }
}

/** RFC 5465 §5.4 MailboxName, §5.5 SubscriptionChange: LIST responses for names that came, went or changed subscription. */
async function pushNames(session: CommandSession, state: NotifyState, boxes: readonly MailboxInfo[], subscriptions: Set<string>): Promise<void> {
  const now = new Map(boxes.map((b) => [b.name, b]));
  const wants = (box: MailboxInfo, event: NotifyEvent) => eventsFor(state.groups, box)?.has(event) ?? false;
  const list = (attrs: string[], name: string): ImapValue[] => [atom("LIST"), attrs.map(atom), DELIMITER, nameValue(session, name)];
  for (const [name, box] of state.mailboxes) {
    if (!now.has(name) && wants(box, "MailboxName")) await session.send(list(["\\NonExistent"], name));
  }
  for (const [name, box] of now) {
    if (!state.mailboxes.has(name) && wants(box, "MailboxName")) await session.send(list(box.subscribed ? ["\\Subscribed"] : [], name));
  }
  for (const name of new Set([...subscriptions, ...state.subscriptions])) {
    if (subscriptions.has(name) === state.subscriptions.has(name)) continue;
    const box = now.get(name) ?? state.mailboxes.get(name) ?? { name, specialUse: null, subscribed: subscriptions.has(name) };
    if (!wants({ ...box, subscribed: true }, "SubscriptionChange")) continue;
    await session.send(list(subscriptions.has(name) ? ["\\Subscribed"] : [], name));
  }
  state.mailboxes = now;
  state.subscriptions = subscriptions;
}

/** Looks at every watched mailbox again and tells the client what changed. */
export async function pushNotifications(session: CommandSession, state: NotifyState): Promise<void> {
  const sel = session.selected;
  if (sel && state.selected && state.selected.events.size) {
    // RFC 5465 §5.1–§5.3 for the selected mailbox: EXISTS, FETCH, and (unless SELECTED-DELAYED) EXPUNGE, at once.
    await session.reportChanges(!state.selected.delayed, false);
    await session.updateContexts();
  }
  const user = session.user!;
  const [boxes, subscriptions] = await Promise.all([session.storage.listMailboxes(user), session.storage.listSubscriptions(user)]);
  await pushNames(session, state, boxes, new Set(subscriptions));
  await pushStatus(session, state, boxes, "changes");
}
