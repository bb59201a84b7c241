import { atom, type ImapValue } from "../encoder.js";
import { encodeMailboxName } from "../mutf7.js";
import type { CommandHandler, CommandSession } from "../command.js";
import { isRefusal, type MailboxInfo } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { statusValues } from "./status.js";
import { parseList } from "../syntax/list.js";

export const DELIMITER = "/";

/**
 * LIST (RFC 3501 §6.3.8) with LIST-EXTENDED (RFC 5258) selection and return options,
 * SPECIAL-USE attributes (RFC 6154) and LIST-STATUS (RFC 5819); and LSUB (§6.3.9).
 */
export const list: CommandHandler = async ({ session, args, name }) => {
  const { reference, patterns, subscribedOnly, specialUseOnly, recursive, returnSubscribed, returnSpecialUse, statusItems: statusAsked } = parseList(args, {
    command: name === "LSUB" ? "LSUB" : "LIST",
    rev2: session.rev2,
  });

  // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
  if (patterns.length === 1 && patterns[0] === "" && name === "LIST") {
    await session.send([atom("LIST"), [atom("\\Noselect")], DELIMITER, ""]);
    return { status: "OK", text: "LIST completed" };
  }
  const boxes = await session.storage.listMailboxes(session.user!);
  const names = new Set(boxes.map((b) => b.name));
  const matchers = patterns.map((p) => patternRegExp(decodePattern(session, reference + p)));
  const matches = (n: string) => matchers.some((m) => m.test(n));
  const lsub = name === "LSUB";
  const rows: { name: string; attrs: string[]; box?: MailboxInfo; childInfo?: boolean }[] = [];
  if (subscribedOnly) {
    // Subscriptions are names: one whose mailbox was deleted is still listed (RFC 5258 §3.4
    // \NonExistent; LSUB \Noselect). RFC 3501 §6.3.9 and RFC 5258 §3.5 (RECURSIVEMATCH): a
    // parent matching the pattern with a subscribed descendant that does not match is listed
    // too, as LSUB \Noselect or with CHILDINFO ("SUBSCRIBED").
    const subs = await session.storage.listSubscriptions(session.user!);
    const subscribed = new Set(subs);
    const byName = new Map(boxes.map((b) => [b.name, b]));
    const parentsWithHiddenChild = new Set<string>();
    if (recursive || lsub) {
      for (const sub of subs) {
        if (matches(sub)) continue;
        const levels = sub.split(DELIMITER);
        for (let k = 1; k < levels.length; k++) parentsWithHiddenChild.add(levels.slice(0, k).join(DELIMITER));
      }
    }
    const candidates = new Set([...subs, ...parentsWithHiddenChild]);
    for (const n of [...candidates].sort()) {
      if (!matches(n)) continue;
      const box = byName.get(n);
      const isSubscribed = subscribed.has(n);
      const hidden = parentsWithHiddenChild.has(n);
      if (lsub) {
        if (!isSubscribed && !(hidden && patterns.some((p) => p.includes("%")))) continue;
        rows.push({ name: n, attrs: !box || !isSubscribed ? ["\\Noselect"] : [] });
        continue;
      }
      if (specialUseOnly && !box?.specialUse) continue;
      const attrs: string[] = [];
      if (!box) attrs.push("\\NonExistent");
      else attrs.push(...attributes(box, names, { subscribed: false, specialUse: returnSpecialUse, lsub: false }));
      if (isSubscribed) attrs.unshift("\\Subscribed");
      if (!isSubscribed && !(recursive && hidden)) continue;
      rows.push({ name: n, attrs, ...(box ? { box } : {}), childInfo: recursive && hidden });
    }
  } else {
    for (const box of boxes) {
      if (!matches(box.name)) continue;
      if (specialUseOnly && !box.specialUse) continue;
      rows.push({ name: box.name, attrs: attributes(box, names, { subscribed: returnSubscribed, specialUse: returnSpecialUse, lsub }), box });
    }
    if (!specialUseOnly && patterns.some((p) => p.endsWith("%"))) {
      const holeMatchers = patterns.filter((p) => p.endsWith("%")).map((p) => patternRegExp(decodePattern(session, reference + p)));
      const holes = hierarchyHoles(names).filter((h) => holeMatchers.some((m) => m.test(h)));
      for (const hole of holes) rows.push({ name: hole, attrs: holeAttributes(session.rev2) });
      if (holes.length) rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }
  for (const row of rows) {
    const line: ImapValue[] = [atom(name), row.attrs.map(atom), DELIMITER, nameValue(session, row.name)];
    if (row.childInfo) line.push(["CHILDINFO", ["SUBSCRIBED"]]);
    await session.send(line);
    const box = row.box;
    if (statusAsked && box) {
      const status = await session.storage.status(session.user!, box.name);
      if (!isRefusal(status)) await session.send([atom("STATUS"), nameValue(session, box.name), statusValues(statusAsked, status, session.opts.appendLimit)]);
    }
  }
  return { status: "OK", text: `${name} completed` };
};

export function nameValue(session: CommandSession, name: string): ImapValue {
  return session.utf8 ? name : encodeMailboxName(name);
}

function decodePattern(session: CommandSession, p: string): string {
  return mailboxName(session, p);
}

/** Levels above existing mailboxes that are no mailbox themselves (left when a parent is deleted). */
export function hierarchyHoles(names: ReadonlySet<string>): string[] {
  const holes = new Set<string>();
  for (const n of names) {
    const levels = n.split(DELIMITER);
    for (let k = 1; k < levels.length; k++) {
      const parent = levels.slice(0, k).join(DELIMITER);
      if (!names.has(parent)) holes.add(parent);
    }
  }
  return [...holes];
}

/**
 * RFC 3501 §6.3.8: a level of hierarchy a trailing "%" matches is listed even when it is no
 * mailbox, as \Noselect; RFC 9051 §6.3.9 (IMAP4rev2) names it \NonExistent (which implies
 * \Noselect, §7.3.1), and both say it has children.
 */
export function holeAttributes(rev2: boolean): string[] {
  return [rev2 ? "\\NonExistent" : "\\Noselect", "\\HasChildren"];
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
