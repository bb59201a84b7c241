import type { CommandHandler } from "../command.js";
import { NotifyError, parseNotify, type EventGroup, type MailboxFilter } from "../syntax/notify.js";
import { mailboxName } from "./arguments.js";
import { mailboxArg } from "../syntax/arguments.js";

/** RFC 5465 §3 NOTIFY SET [STATUS] (filter events)… / NOTIFY NONE. */
export const notify: CommandHandler = async ({ session, args }) => {
  let request;
  try {
    request = parseNotify(args);
  } catch (error) {
    if (error instanceof NotifyError) return { status: error.status, ...(error.code ? { code: error.code } : {}), text: error.message };
    throw error;
  }
  if (request.none) {
    await session.setNotify(request);
    return { status: "OK", text: "NOTIFY completed: no more notifications" };
  }
  // Mailbox names as every command reads them (modified UTF-7 or UTF-8, INBOX in any case).
  const groups: EventGroup<string>[] = request.groups.map((g) => {
    const f = g.filter;
    const filter: MailboxFilter<string> = f.kind === "subtree" || f.kind === "mailboxes" ? { kind: f.kind, names: f.names.map((n) => mailboxName(session, mailboxArg(n))) } : f;
    return { filter, events: g.events };
  });
  await session.setNotify({ none: false, status: request.status, groups });
  return { status: "OK", text: "NOTIFY completed" };
};
