import { atom, type ImapValue } from "../encoder.js";
import { encodeMailboxName } from "../mutf7.js";
import type { Token } from "../parser.js";
import type { CommandHandler, ImapSession } from "../session.js";
import { isRefusal, type MailboxInfo } from "../storage.js";
import { ArgumentError, astring, mailboxName } from "./arguments.js";
import { statusItems, statusValues } from "./status.js";

const DELIMITER = "/";

/**
 * LIST (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258) selection and return options,
 * SPECIAL-USE attributes (RFC 6154) and LIST-STATUS (RFC 5819); and LSUB (§6.3.9).
 */
export const list: CommandHandler = async ({ session, args, name }) => {
  let i = 0;
  let subscribedOnly = name === "LSUB";
  let specialUseOnly = false;
  if (name === "LIST" && args[0]?.type === "list") {
    for (const opt of args[0].items) {
      const o = atomValue(opt);
      if (o === "SUBSCRIBED") subscribedOnly = true;
      else if (o === "SPECIAL-USE") specialUseOnly = true;
      else if (o !== "REMOTE" && o !== "RECURSIVEMATCH") return { status: "BAD", text: `unknown LIST selection option ${o}` };
    }
    i++;
  }
  const reference = astring(args[i], "the reference name");
  const patternToken = args[i + 1];
  if (!patternToken) return { status: "BAD", text: `${name} takes a reference and a mailbox pattern` };
  const patterns = patternToken.type === "list" ? patternToken.items.map((t) => astring(t, "a pattern")) : [astring(patternToken, "the pattern")];
  let returnSubscribed = subscribedOnly && name === "LIST";
  let returnSpecialUse = true;
  let statusAsked: string[] | undefined;
  const rest = args.slice(i + 2);
  if (rest.length) {
    if (name !== "LIST" || atomValue(rest[0]) !== "RETURN" || rest[1]?.type !== "list" || rest.length !== 2) return { status: "BAD", text: "expected RETURN (options)" };
    const opts = rest[1].items;
    for (let k = 0; k < opts.length; k++) {
      const o = atomValue(opts[k]);
      if (o === "SUBSCRIBED") returnSubscribed = true;
      else if (o === "SPECIAL-USE") returnSpecialUse = true;
      else if (o === "CHILDREN") continue;
      else if (o === "STATUS") {
        statusAsked = statusItems(opts[++k]);
      } else return { status: "BAD", text: `unknown LIST return option ${o}` };
    }
  }

  // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
  if (patterns.length === 1 && patterns[0] === "" && name === "LIST") {
    await session.send([atom("LIST"), [atom("\\Noselect")], DELIMITER, ""]);
    return { status: "OK", text: "LIST completed" };
  }
  const boxes = await session.storage.listMailboxes(session.user!);
  const names = new Set(boxes.map((b) => b.name));
  const matchers = patterns.map((p) => patternRegExp(decodePattern(session, reference + p)));
  for (const box of boxes) {
    if (!matchers.some((m) => m.test(box.name))) continue;
    if (subscribedOnly && !box.subscribed) continue;
    if (specialUseOnly && !box.specialUse) continue;
    const attrs = attributes(box, names, { subscribed: returnSubscribed, specialUse: returnSpecialUse, lsub: name === "LSUB" });
    await session.send([atom(name), attrs.map(atom), DELIMITER, nameValue(session, box.name)]);
    if (statusAsked) {
      const status = await session.storage.status(session.user!, box.name);
      if (!isRefusal(status)) await session.send([atom("STATUS"), nameValue(session, box.name), statusValues(statusAsked, status)]);
    }
  }
  return { status: "OK", text: `${name} completed` };
};

function atomValue(t: Token | undefined): string {
  if (!t || t.type !== "atom") throw new ArgumentError("expected an option name");
  return t.value.toUpperCase();
}

export function nameValue(session: ImapSession, name: string): ImapValue {
  return session.utf8 ? name : encodeMailboxName(name);
}

function decodePattern(session: ImapSession, p: string): string {
  return mailboxName(session, { type: "string", value: p, bytes: Buffer.from(p), literal: false });
}

function attributes(box: MailboxInfo, names: Set<string>, opts: { subscribed: boolean; specialUse: boolean; lsub: boolean }): string[] {
  const attrs: string[] = [];
  const hasChildren = [...names].some((n) => n.startsWith(box.name + DELIMITER));
  if (!opts.lsub) attrs.push(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
  if (opts.subscribed && box.subscribed) attrs.push("\\Subscribed");
  if (opts.specialUse && box.specialUse && !opts.lsub) attrs.push(box.specialUse);
  return attrs;
}

/** RFC 3501 §6.3.8: "*" matches anything, "%" anything but the delimiter. INBOX matches case-insensitively. */
export function patternRegExp(pattern: string): RegExp {
  const p = /^inbox(?=$|\/)/i.test(pattern) ? "INBOX" + pattern.slice(5) : pattern;
  const body = [...p].map((c) => (c === "*" ? ".*" : c === "%" ? "[^/]*" : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}
