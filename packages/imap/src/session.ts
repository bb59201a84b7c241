/**
 * One IMAP connection's state machine (RFC 3501 §3): not authenticated →
 * authenticated → selected → logout. It parses each framed line, checks the state,
 * runs the command's handler (commands/*.ts) and writes the tagged completion. Before
 * completing, it reports what other sessions changed in the selected mailbox
 * (RFC 3501 §7.3.1 EXISTS, §7.4.1 EXPUNGE, §7.4.2 FETCH).
 */
import { continuation, statusLine, untagged, type Completion, type ImapValue } from "./encoder.js";
import type { FramedLine } from "./framer.js";
import { parseCommand, ParseError } from "./parser.js";
import { compactSet, sequenceNumberOf } from "./sequence.js";
import { SYSTEM_FLAGS, type ImapStorage, type ImapUser } from "./storage.js";
import { commandTable } from "./commands/index.js";
import { atom } from "./encoder.js";
import { ArgumentError } from "./syntax/arguments.js";
import { inputsFor } from "./commands/sort-input.js";
import { changeItems, contextChanges, numberIn, type SearchContext } from "./context.js";
import { sortMessages } from "./sort.js";
import { NOTIFY_POLL_MS, pushNotifications, pushStatus, type NotifyState } from "./notifications.js";
import type { NotifyRequest } from "./syntax/notify.js";
import type { CommandSession, Selection, SelectedMailbox, SessionOptions, SessionState } from "./command.js";

export class ImapSession implements CommandSession {
  state: SessionState = "not-authenticated";
  user: ImapUser | undefined;
  selected: SelectedMailbox | undefined;
  /** RFC 5161 ENABLE'd extensions. */
  readonly enabled = new Set<string>();
  /** RFC 7162 §3.1: CONDSTORE is on once enabled or used. */
  condstore = false;
  /** RFC 4978: COMPRESS DEFLATE is active. */
  compressed = false;

  /**
   * RFC 7162 §3.1: turns CONDSTORE on for a CONDSTORE-enabling command; the first one while
   * a mailbox is selected (other than SELECT/EXAMINE, which always say it) announces the
   * mailbox's HIGHESTMODSEQ in an untagged OK before its answer.
   */
  async enableCondstore(): Promise<void> {
    if (this.condstore) return;
    this.condstore = true;
    if (this.selected) await this.write(Buffer.from(`* OK [HIGHESTMODSEQ ${this.selected.knownModseq}] highest modseq\r\n`));
  }
  secure: boolean;
  readonly storage: ImapStorage;
  readonly opts: SessionOptions;
  private ended = false;
  /** RFC 5465: what NOTIFY SET asked for; undefined before it and after NOTIFY NONE. */
  notify: NotifyState | undefined;
  /** A command is running: notifications wait for its end (or IDLE's push). */
  private busy = false;
  private notifyPending = false;
  private pushing: Promise<void> = Promise.resolve();

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.storage = opts.storage;
    this.secure = opts.secure;
  }

  /** RFC 6855 §3 UTF8=ACCEPT; RFC 9051 §5.1: an IMAP4rev2 session names mailboxes in UTF-8 too. */
  get utf8(): boolean {
    return this.enabled.has("UTF8=ACCEPT") || this.rev2;
  }

  /** RFC 9051 Appendix E: `ENABLE IMAP4rev2` switched this session to IMAP4rev2 semantics. */
  get rev2(): boolean {
    return this.enabled.has("IMAP4REV2");
  }

  /** RFC 7162 §3.2.3: once QRESYNC is enabled, expunges go out as VANISHED, not EXPUNGE. */
  get qresync(): boolean {
    return this.enabled.has("QRESYNC");
  }

  greeting(): Buffer {
    return statusLine("*", { status: "OK", code: `CAPABILITY ${this.capabilities().join(" ")}`, text: `${this.opts.hostname} Correo IMAP4rev1 ready` });
  }

  capabilities(): string[] {
    const caps = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE", "NAMESPACE", "UNSELECT", "CHILDREN"];
    if (this.opts.tlsAvailable && !this.secure && this.state === "not-authenticated") caps.push("STARTTLS");
    if (this.state === "not-authenticated") caps.push("AUTH=PLAIN");
    else caps.push("UIDPLUS", "MULTIAPPEND", ...(this.opts.appendLimit ? [`APPENDLIMIT=${this.opts.appendLimit}`] : []), "MOVE", "CONDSTORE", "QRESYNC", "SPECIAL-USE", "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "UTF8=ACCEPT", "STATUS=SIZE", "OBJECTID", ...(this.storage.partText ? ["PREVIEW"] : []), "SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "ESEARCH", "ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT", "WITHIN", "NOTIFY", "SEARCHRES", "BINARY", "CATENATE", "URLAUTH", "URLAUTH=BINARY");
    if (this.state !== "not-authenticated" && this.storage.quota) caps.push("QUOTA", "QUOTA=RES-STORAGE");
    if (this.state !== "not-authenticated" && this.opts.io.startCompression && !this.compressed) caps.push("COMPRESS=DEFLATE");
    return caps;
  }

  /** Untagged response. */
  send(items: ImapValue[]): Promise<void> {
    return this.opts.io.write(untagged(items, { utf8: this.utf8 }));
  }

  write(data: Buffer): Promise<void> {
    return this.opts.io.write(data);
  }

  continue(text = ""): Promise<void> {
    return this.opts.io.write(continuation(text));
  }

  nextLine(): Promise<FramedLine | undefined> {
    return this.opts.io.nextLine();
  }

  /** Handles one framed line; resolves once its responses are written. Returns "close" after LOGOUT. */
  async handleLine(line: FramedLine): Promise<"close" | undefined> {
    await this.pushing;
    this.busy = true;
    try {
      return await this.runLine(line);
    } finally {
      this.busy = false;
      if (this.notifyPending) this.notifyWake();
    }
  }

  private async runLine(line: FramedLine): Promise<"close" | undefined> {
    const parsed = parseCommand(line);
    if (parsed instanceof ParseError) {
      await this.write(statusLine(parsed.tag ?? "*", { status: "BAD", text: parsed.message }));
      return undefined;
    }
    const spec = commandTable[parsed.name];
    this.opts.observer?.command?.(spec ? parsed.name : "unknown");
    if (!spec) {
      await this.write(statusLine(parsed.tag, { status: "BAD", text: `unknown command ${parsed.name}` }));
      return undefined;
    }
    if (!spec.states.includes(this.state)) {
      const text =
        this.state === "not-authenticated" ? `${parsed.name} needs a login first` : this.state === "authenticated" && spec.states.includes("selected") ? `${parsed.name} needs a selected mailbox` : `${parsed.name} is not allowed now`;
      await this.write(statusLine(parsed.tag, { status: "BAD", text }));
      return undefined;
    }
    let completion: Completion;
    try {
      completion = await spec.handler({ tag: parsed.tag, name: parsed.name, args: parsed.args, uid: parsed.name.startsWith("UID "), session: this });
    } catch (error) {
      if (error instanceof ArgumentError && error.status === "BAD") {
        await this.write(statusLine(parsed.tag, { status: "BAD", text: error.message }));
        return undefined;
      }
      if (error instanceof ArgumentError) completion = { status: "NO", code: error.code, text: error.message };
      else {
        this.opts.observer?.error?.(error, parsed.name);
        completion = { status: "NO", code: "SERVERBUG", text: "internal error; try again" };
      }
    }
    if (this.selected && completion.status !== "BAD") {
      await this.reportChanges(!spec.noExpungeUpdates || this.selectedUidCommand(parsed.name));
      await this.updateContexts();
    }
    if (this.state === "logout") {
      await this.write(statusLine(parsed.tag, completion));
      return "close";
    }
    if (!completion.written) await this.write(statusLine(parsed.tag, completion));
    return undefined;
  }

  private selectedUidCommand(name: string): boolean {
    return name.startsWith("UID ");
  }

  /** Selects a mailbox (SELECT/EXAMINE): watches it for changes by anyone. */
  setSelected(sel: Selection): void {
    this.unselect();
    const keywords = new Map(sel.keywords.map((k) => [k.toLowerCase(), k]));
    const selected: SelectedMailbox = { ...sel, keywords, contexts: new Map(), saved: [], dirty: false, reported: new Map(), unwatch: () => undefined };
    if (this.opts.notifier) {
      selected.unwatch = this.opts.notifier.watch(sel.mailboxId, () => {
        selected.dirty = true;
        this.onChange?.();
        if (this.notify?.selected) this.notifyWake();
      });
    }
    this.selected = selected;
    this.state = "selected";
  }

  unselect(): void {
    this.selected?.unwatch();
    this.selected = undefined;
    if (this.state === "selected") this.state = "authenticated";
  }

  /** The FLAGS of a message as this session shows them: with \Recent when it is recent here. */
  shownFlags(uid: number, flags: readonly string[]): readonly string[] {
    return this.showsRecent(uid) ? [...flags, "\\Recent"] : flags;
  }

  /** `shownFlags` as response values (atoms). */
  flagValues(uid: number, flags: readonly string[]): ImapValue[] {
    return this.shownFlags(uid, flags).map(atom);
  }

  /** Whether FLAGS show \Recent for `uid`: RFC 9051 Appendix E removed the flag from IMAP4rev2. */
  showsRecent(uid: number): boolean {
    return !this.rev2 && this.selected?.recent.has(uid) === true;
  }

  /** How many of the selected mailbox's messages are \Recent in this session. */
  recentCount(): number {
    const sel = this.selected;
    if (!sel) return 0;
    let n = 0;
    for (const uid of sel.recent) if (sequenceNumberOf(sel.uids, uid)) n++;
    return n;
  }

  /**
   * RFC 3501 §7.2.6: before flags with a keyword the last FLAGS did not list go out, a new
   * untagged FLAGS (and PERMANENTFLAGS) lists it, so no client sees an undeclared keyword.
   */
  async announceKeywords(flags: readonly string[]): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    let added = false;
    for (const f of flags) {
      if (f.startsWith("\\") || sel.keywords.has(f.toLowerCase())) continue;
      sel.keywords.set(f.toLowerCase(), f);
      added = true;
    }
    if (added) await this.sendFlags();
  }

  /** The untagged FLAGS and PERMANENTFLAGS of the selected mailbox (RFC 3501 §7.2.6, §7.1). */
  async sendFlags(): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    const flags = [...SYSTEM_FLAGS, ...sel.keywords.values()];
    await this.send([atom("FLAGS"), flags.map(atom)]);
    await this.write(Buffer.from(`* OK [PERMANENTFLAGS (${sel.readOnly ? "" : [...flags, "\\*"].join(" ")})] flags permitted\r\n`));
  }

  /** Set while IDLE waits, to push changes at once. */
  onChange: (() => void) | undefined;

  /**
   * Reports changes made since this session last looked: new messages (EXISTS),
   * flag changes (FETCH), and, when allowed, expunges (EXPUNGE, highest number first
   * would be wrong: each EXPUNGE renumbers, so they go in ascending UID order with
   * the sequence number at that moment).
   */
  async reportChanges(allowExpunge: boolean, force = false): Promise<void> {
    const sel = this.selected;
    if (!sel || (!sel.dirty && !force)) return;
    sel.dirty = false;
    const changes = await this.storage.changesSince(sel.mailboxId, sel.knownModseq);
    if (this.selected !== sel) return;
    let pendingExpunge = false;
    if (changes.expunged.length) {
      if (allowExpunge) {
        await this.reportExpunged(changes.expunged);
      } else pendingExpunge = changes.expunged.some((u) => sequenceNumberOf(sel.uids, u) > 0);
    }
    const last = sel.uids.length ? sel.uids[sel.uids.length - 1]! : 0;
    const added = changes.upserts.filter((u) => u.uid > last).map((u) => u.uid);
    for (const u of changes.upserts) if (u.uid > last) sel.reported.set(u.uid, u.modseq);
    if (added.length) {
      // RFC 3501 §2.3.2: new messages are \Recent for the first session to see them;
      // a read-write session claims them, a read-only one only looks.
      const claimedBefore = await this.storage.claimRecent(sel.mailboxId, added[added.length - 1]!, !sel.readOnly);
      if (this.selected !== sel) return;
      for (const uid of added) if (uid > claimedBefore) sel.recent.add(uid);
      sel.uids.push(...added);
      await this.send([sel.uids.length, atom("EXISTS")]);
      // RFC 9051 Appendix E: IMAP4rev2 has no RECENT response.
      if (!this.rev2) await this.send([this.recentCount(), atom("RECENT")]);
      // The new messages' keywords are declared before a FETCH of them can show one.
      await this.announceKeywords(changes.upserts.filter((u) => u.uid > last).flatMap((u) => u.flags));
    }
    for (const u of changes.upserts) {
      if (u.uid > last) continue;
      const seq = sequenceNumberOf(sel.uids, u.uid);
      if (!seq || (sel.reported.get(u.uid) ?? 0) >= u.modseq) continue;
      sel.reported.set(u.uid, u.modseq);
      await this.announceKeywords(u.flags);
      const items: ImapValue[] = [atom("UID"), u.uid, atom("FLAGS"), this.flagValues(u.uid, u.flags)];
      if (this.condstore) items.push(atom("MODSEQ"), [u.modseq]);
      await this.send([seq, atom("FETCH"), items]);
    }
    if (pendingExpunge) {
      // Keep the expunges for a later command; flags and arrivals are done.
      sel.dirty = true;
      return;
    }
    sel.knownModseq = Math.max(sel.knownModseq, changes.highestModseq);
  }

  /**
   * Removes expunged messages from the session's view and tells the client: one EXPUNGE per
   * message, in ascending UID order with the sequence number at that moment (RFC 3501
   * §7.4.1), or, once QRESYNC is enabled, one `VANISHED uid-set` (RFC 7162 §3.2.10). UIDs
   * the session does not know are skipped. Callers check that expunges may go out now.
   */
  async reportExpunged(uids: readonly number[]): Promise<void> {
    const sel = this.selected;
    if (!sel) return;
    await this.beforeExpunge(uids);
    const gone: number[] = [];
    for (const uid of [...uids].sort((a, b) => a - b)) {
      const seq = sequenceNumberOf(sel.uids, uid);
      if (!seq) continue;
      sel.uids.splice(seq - 1, 1);
      sel.reported.delete(uid);
      sel.recent.delete(uid);
      if (this.qresync) gone.push(uid);
      else await this.send([seq, atom("EXPUNGE")]);
    }
    if (gone.length) await this.write(Buffer.from(`* VANISHED ${compactSet(gone)}\r\n`));
  }

  /**
   * RFC 5267 §4.3: before the EXPUNGE responses for `uids` go out, each context that holds
   * some of them reports their removal, while their sequence numbers still name them.
   */
  async beforeExpunge(uids: readonly number[]): Promise<void> {
    const sel = this.selected;
    if (!sel?.contexts.size) return;
    const gone = new Set(uids);
    for (const ctx of sel.contexts.values()) {
      const after = ctx.result.filter((u) => !gone.has(u));
      if (after.length === ctx.result.length) continue;
      await this.sendContextChanges(ctx, ctx.result, after);
    }
  }

  /** RFC 5267 §4.3: every context evaluated again; what changed goes out as REMOVEFROM, then ADDTO. */
  async updateContexts(): Promise<void> {
    const sel = this.selected;
    if (!sel?.contexts.size) return;
    for (const ctx of [...sel.contexts.values()]) {
      const after = await this.evaluateContext(ctx);
      if (this.selected !== sel || sel.contexts.get(ctx.tag) !== ctx) return;
      await this.sendContextChanges(ctx, ctx.result, after);
    }
  }

  /** A context's result now: the UIDs its criteria match that this session knows, in mailbox or sort order. */
  async evaluateContext(ctx: SearchContext): Promise<number[]> {
    const sel = this.selected!;
    if (ctx.sort) {
      const { inputs } = await inputsFor(this, ctx.criteria, false);
      return sortMessages(inputs, ctx.sort).map((m) => m.uid);
    }
    const found = await this.storage.search(sel.mailboxId, ctx.criteria);
    return found.filter((u) => sequenceNumberOf(sel.uids, u) > 0).sort((a, b) => a - b);
  }

  private async sendContextChanges(ctx: SearchContext, before: readonly number[], after: number[]): Promise<void> {
    const { removed, added } = contextChanges(before, after);
    ctx.result = after;
    const number = numberIn(ctx, this.selected!.uids);
    const head: ImapValue[] = [atom("ESEARCH"), [atom("TAG"), ctx.tag], ...(ctx.uid ? [atom("UID")] : [])];
    if (removed.length) await this.send([...head, ...changeItems("REMOVEFROM", removed, Boolean(ctx.sort), number)]);
    if (added.length) await this.send([...head, ...changeItems("ADDTO", added, Boolean(ctx.sort), number)]);
  }

  /**
   * RFC 5465 §3: NOTIFY SET replaces what the session watched, NOTIFY NONE (undefined) ends it.
   * With STATUS, every non-selected mailbox under a message event gets its STATUS now (§3.1).
   */
  async setNotify(request: NotifyRequest<string>): Promise<void> {
    this.notify?.stop();
    this.notify = undefined;
    if (request.none) return;
    const user = this.user!;
    const selected = request.groups.find((g) => g.filter.kind === "selected");
    const state: NotifyState = {
      status: request.status,
      groups: request.groups.filter((g) => g.filter.kind !== "selected"),
      ...(selected && selected.filter.kind === "selected" ? { selected: { delayed: selected.filter.delayed, events: selected.events } } : {}),
      told: new Map(),
      mailboxes: new Map(),
      subscriptions: new Set(),
      stop: () => undefined,
    };
    const [boxes, subscriptions] = await Promise.all([this.storage.listMailboxes(user), this.storage.listSubscriptions(user)]);
    state.mailboxes = new Map(boxes.map((b) => [b.name, b]));
    state.subscriptions = new Set(subscriptions);
    await pushStatus(this, state, boxes, request.status ? "initial" : "baseline");
    const unwatch = this.opts.notifier?.watchAccount?.(user.id, () => this.notifyWake()) ?? (() => undefined);
    const poll = setInterval(() => this.notifyWake(), NOTIFY_POLL_MS);
    poll.unref?.();
    state.stop = () => {
      unwatch();
      clearInterval(poll);
    };
    this.notify = state;
  }

  /** Something may have changed for NOTIFY: tell the client now, or when the running command ends (IDLE pushes at once). */
  notifyWake(): void {
    if (!this.notify || this.ended) return;
    if (this.busy) {
      this.notifyPending = true;
      this.onChange?.();
      return;
    }
    this.notifyPending = false;
    this.pushing = this.pushing.then(() => this.notifyPush());
  }

  /** One NOTIFY push (RFC 5465 §5); errors are reported, never thrown at the connection. */
  async notifyPush(): Promise<void> {
    const state = this.notify;
    if (!state || this.ended) return;
    this.notifyPending = false;
    try {
      await pushNotifications(this, state);
    } catch (error) {
      this.opts.observer?.error?.(error, "NOTIFY");
    }
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.notify?.stop();
    this.notify = undefined;
    this.unselect();
  }
}

/** The command a line names, if the server knows it, else "UNKNOWN": a bounded metric label. */
export function commandNameOf(line: FramedLine): string {
  const m = /^\S+ (UID )?([A-Za-z]+)/.exec(line.segments[0] ?? "");
  if (!m) return "UNKNOWN";
  const name = `${m[1] ? "UID " : ""}${m[2]!.toUpperCase()}`;
  return commandTable[name] ? name : "UNKNOWN";
}
