/**
 * RFC 5256 §2.2 THREAD=REFERENCES: the algorithm, step by step, as a pure function of the
 * messages' Message-ID, References / In-Reply-To, subject and sent date.
 * The THREAD command (commands/thread.ts) feeds it; §5 renders its result.
 */
import { baseSubjectInfo, sentTime, type SortInput } from "./sort.js";

export interface ThreadInput extends SortInput {
  /** The Message-ID header as sent (NIL: none). */
  messageId: string | null;
  /** The In-Reply-To header as sent. */
  inReplyTo: string | null;
  /** The References header as sent. */
  references: string | null;
}

/** A node of the thread tree: a message, or a dummy (`message` undefined) standing for one that is not in the set. */
export interface ThreadNode {
  message?: ThreadInput;
  children: ThreadNode[];
}

/** Message IDs (`<...>`) in a header value, in order; comments and anything outside angle brackets ignored. */
export function messageIds(value: string | null): string[] {
  if (value === null) return [];
  const unfolded = value.replace(/\([^()]*\)/g, " ");
  return [...unfolded.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
}

/**
 * §2.2 step 1: the references of a message: the Message IDs of References; when it has none,
 * the first Message ID of In-Reply-To; else none.
 */
export function referencesOf(m: Pick<ThreadInput, "references" | "inReplyTo">): string[] {
  const refs = messageIds(m.references);
  if (refs.length) return refs;
  const irt = messageIds(m.inReplyTo)[0];
  return irt === undefined ? [] : [irt];
}

interface Container {
  message?: ThreadInput;
  parent?: Container;
  children: Container[];
}

/** True when `a` is `b` or one of its descendants: making `a` the parent of `b` would close a loop. */
function isDescendantOrSelf(a: Container, b: Container): boolean {
  for (let c: Container | undefined = a; c; c = c.parent) if (c === b) return true;
  return false;
}

function unlink(child: Container): void {
  const p = child.parent;
  if (!p) return;
  p.children.splice(p.children.indexOf(child), 1);
  child.parent = undefined;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** The message a node sorts by: itself, or for a dummy its first child (§2.2 step 4), recursively. */
function representative(n: ThreadNode): ThreadInput | undefined {
  return n.message ?? (n.children[0] ? representative(n.children[0]) : undefined);
}

function compareByDate(a: ThreadNode, b: ThreadNode): number {
  const x = representative(a);
  const y = representative(b);
  if (!x || !y) return 0;
  // Equal sent dates keep mailbox order (sequence numbers).
  return sentTime(x.date, x.internalDate) - sentTime(y.date, y.internalDate) || x.seq - y.seq;
}

/** §2.2 step 4 / step 6: siblings ordered by sent date, youngest sets of siblings first. */
function sortTree(nodes: ThreadNode[]): void {
  for (const n of nodes) sortTree(n.children);
  nodes.sort(compareByDate);
}

/** The thread subject (§2.2 step 5.B): the base subject of the message, or of a dummy's first child. */
function threadSubject(n: ThreadNode): { base: string; isReply: boolean } {
  const m = n.message ?? n.children[0]?.message;
  return baseSubjectInfo(m?.subject ?? "");
}

/** RFC 5256 §2.2 THREAD=REFERENCES. `messages` in mailbox order; the threads in the order §5 lists them. */
export function threadReferences(messages: readonly ThreadInput[]): ThreadNode[] {
  // Step 1: a container per Message ID, linked through the references.
  const byId = new Map<string, Container>();
  const all: Container[] = [];
  const containerFor = (id: string): Container => {
    let c = byId.get(id);
    if (!c) {
      c = { children: [] };
      byId.set(id, c);
      all.push(c);
    }
    return c;
  };
  let unique = 0;
  for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
    // No valid Message ID, or one already taken by another message: a unique one of its own.
    const id = messageIds(m.messageId)[0];
    let own = id === undefined ? undefined : containerFor(id);
    if (!own || own.message) {
      own = { children: [] };
      byId.set(`\0unique-${unique++}`, own);
      all.push(own);
    }
    own.message = m;
    const refs = referencesOf(m).map(containerFor);
    // (A) Each reference the parent of the next, unless the child already has a parent or it would loop.
    for (let i = 0; i + 1 < refs.length; i++) {
      const parent = refs[i]!;
      const child = refs[i + 1]!;
      if (!child.parent && !isDescendantOrSelf(parent, child)) link(parent, child);
    }
    // (B) The last reference is the message's parent; an existing parent link gives way, a loop is not made.
    unlink(own);
    const last = refs[refs.length - 1];
    if (last && !isDescendantOrSelf(last, own)) link(last, own);
  }

  // Step 2: the root set, the containers without a parent.
  const toNode = (c: Container): ThreadNode => ({ ...(c.message ? { message: c.message } : {}), children: c.children.map(toNode) });
  let roots = all.filter((c) => !c.parent).map(toNode);

  // Step 3: prune dummies: childless ones go; the others give way to their children, except at
  // the root when they have more than one.
  const prune = (nodes: ThreadNode[], atRoot: boolean): ThreadNode[] =>
    nodes.flatMap((n) => {
      n.children = prune(n.children, false);
      if (n.message) return [n];
      if (n.children.length === 0) return [];
      if (atRoot && n.children.length > 1) return [n];
      return n.children;
    });
  roots = prune(roots, true);

  // Step 4: the root set by sent date (a dummy by its first child, its children sorted first).
  sortTree(roots);

  // Step 5: threads whose thread subjects match are merged.
  const table = new Map<string, ThreadNode>();
  const key = (base: string) => base.replace(/[a-z]+/g, (x) => x.toUpperCase());
  for (const n of roots) {
    const s = threadSubject(n);
    if (s.base === "") continue;
    const k = key(s.base);
    const there = table.get(k);
    if (!there) table.set(k, n);
    else if (there.message && (!n.message || (threadSubject(there).isReply && !s.isReply))) table.set(k, n);
  }
  const merged: ThreadNode[] = [];
  for (const n of roots) {
    const s = threadSubject(n);
    const there = s.base === "" ? undefined : table.get(key(s.base));
    if (!there || there === n) {
      merged.push(n);
      continue;
    }
    if (!there.message && !n.message) there.children.push(...n.children);
    else if (!there.message) there.children.push(n);
    else if (s.isReply && !threadSubject(there).isReply) there.children.push(n);
    else {
      const dummy: ThreadNode = { children: [there, n] };
      const at = merged.indexOf(there);
      if (at >= 0) merged[at] = dummy;
      else roots[roots.indexOf(there)] = dummy;
      table.set(key(s.base), dummy);
    }
  }

  // Step 6: every set of siblings by sent date.
  sortTree(merged);
  return merged;
}

/** RFC 5256 §5 thread-list of the threads, numbering each message by `number` (sequence number or UID). */
export function referencesThreadList(threads: readonly ThreadNode[], number: (m: ThreadInput) => number): string {
  // thread-members: a chain of single children, space-separated; several children: each a nested list.
  const members = (n: ThreadNode): string => {
    const parts: string[] = [];
    let cur: ThreadNode = n;
    for (;;) {
      if (cur.message) parts.push(String(number(cur.message)));
      if (cur.children.length === 1) cur = cur.children[0]!;
      else {
        if (cur.children.length > 1) parts.push(cur.children.map((c) => `(${members(c)})`).join(""));
        break;
      }
    }
    return parts.join(" ");
  };
  return threads.map((t) => `(${members(t)})`).join("");
}
