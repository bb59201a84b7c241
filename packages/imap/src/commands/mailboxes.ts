import type { Completion } from "../encoder.js";
import type { CommandHandler, CommandSession } from "../command.js";
import { isRefusal, type Refusal } from "../storage.js";
import { mailboxObjectId } from "../objectid.js";
import { CreateParamError } from "../syntax/create.js";
import { parseCreate, parseDelete, parseRename, parseSubscribe } from "../syntax/mailboxes.js";
import { mailboxName } from "./arguments.js";

function refusal(r: Refusal): Completion {
  const code = { nonexistent: "NONEXISTENT", exists: "ALREADYEXISTS", "invalid-name": "CANNOT", inbox: "CANNOT", "over-quota": "OVERQUOTA" }[r.refused];
  return { status: "NO", code, text: r.text };
}

const done = (name: string, r: true | Refusal): Completion => (r === true ? { status: "OK", text: `${name} completed` } : refusal(r));

/** RFC 5465 §5.4, §5.5: the sessions of this process that NOTIFY about the account look again at once. */
function changed(session: CommandSession, r: true | Refusal): true | Refusal {
  if (r === true) session.opts.notifier?.accountChanged?.(session.user!.id);
  return r;
}

/** RFC 3501 §6.3.3 CREATE (a trailing delimiter is dropped, as the RFC asks), with RFC 6154 §3 `(USE (\\Junk))`. */
export const create: CommandHandler = async ({ session, args, name }) => {
  let request;
  try {
    request = parseCreate(args);
  } catch (error) {
    if (error instanceof CreateParamError) return { status: error.status, code: error.code, text: error.message };
    throw error;
  }
  const box = mailboxName(session, request.mailbox).replace(/\/$/, "");
  if (box === "INBOX") return { status: "NO", code: "ALREADYEXISTS", text: "INBOX always exists" };
  const r = changed(session, await session.storage.createMailbox(session.user!, box, request.specialUse));
  if (r !== true) return refusal(r);
  // RFC 8474 §4.1: the new mailbox's MAILBOXID in the tagged OK.
  const status = await session.storage.status(session.user!, box);
  const id = isRefusal(status) ? undefined : status.mailboxId;
  return id === undefined ? { status: "OK", text: `${name} completed` } : { status: "OK", code: `MAILBOXID (${mailboxObjectId(id)})`, text: `${name} completed` };
};

/** RFC 3501 §6.3.4 */
export const remove: CommandHandler = async ({ session, args, name }) => {
  const box = mailboxName(session, parseDelete(args).mailbox);
  if (session.selected?.name === box) session.unselect();
  return done(name, changed(session, await session.storage.deleteMailbox(session.user!, box)));
};

/** RFC 3501 §6.3.5 */
export const rename: CommandHandler = async ({ session, args, name }) => {
  const { from, to } = parseRename(args);
  return done(name, changed(session, await session.storage.renameMailbox(session.user!, mailboxName(session, from), mailboxName(session, to))));
};

/** RFC 3501 §6.3.6 SUBSCRIBE, §6.3.7 UNSUBSCRIBE */
export const subscribe: CommandHandler = async ({ session, args, name }) => {
  const { mailbox } = parseSubscribe(args, name);
  return done(name, changed(session, await session.storage.setSubscribed(session.user!, mailboxName(session, mailbox), name === "SUBSCRIBE")));
};

export { refusal };
