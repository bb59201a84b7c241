import { binaryContent, bodyStructureValue, envelopeValue, sectionBytes, sectionName } from "../body-section.js";
import { atom, untagged, type ImapValue } from "../encoder.js";
import { compactSet, resolveSequenceNumbers, resolveUids, sequenceNumberOf, uidRanges, type SequenceSet } from "../sequence.js";
import { sequenceSetOf } from "../searchres.js";
import type { CommandHandler, CommandSession } from "../command.js";
import type { MessageData, MessageSummary } from "../storage.js";
import { formatDateTime } from "../syntax/arguments.js";
import { parseFetch, type FetchItem } from "../syntax/fetch.js";
import { emailObjectId } from "../objectid.js";
import { ResponseBatch } from "../response-batch.js";
import { previewOf, previewPart } from "../preview.js";

/** RFC 3516 §4.3: a part whose content-transfer encoding the server cannot decode. */
class UnknownCte extends Error {}

/** Messages read at once: fewer round trips for structures, fewer bodies in memory for sections. */
const BATCH = 1000;
const RAW_BATCH = 250;
/** The next batch of bodies is read ahead while this one's add up to no more than this. */
const RAW_AHEAD_OCTETS = 4 * 1024 * 1024;

/** RFC 3501 §6.4.5 FETCH and §6.4.8 UID FETCH, with CONDSTORE's CHANGEDSINCE and MODSEQ (RFC 7162 §3.1.4). */
export const fetch: CommandHandler = async ({ session, args, uid }) => {
  const sel = session.selected!;
  const request = parseFetch(args, { uid, qresync: session.qresync });
  const set = sequenceSetOf(sel, request.set, uid);
  const { items, changedSince, vanished } = request;
  if (changedSince !== undefined || items.some((i) => i.kind === "MODSEQ")) await session.enableCondstore();
  if (uid && !items.some((i) => i.kind === "UID")) items.unshift({ kind: "UID" });
  if (session.condstore && changedSince !== undefined && !items.some((i) => i.kind === "MODSEQ")) items.push({ kind: "MODSEQ" });
  let uids = uid ? resolveUids(set, sel.uids) : resolveSequenceNumbers(set, sel.uids);
  if (!uid && set.some(([a, b]) => (a !== "*" && a > sel.uids.length) || (b !== "*" && b > sel.uids.length))) {
    return { status: "BAD", text: "message sequence number out of range" };
  }
  const setsSeen = !sel.readOnly && items.some((i) => (i.kind === "section" || i.kind === "binary") && !i.peek);
  // RFC 7162 §3.2.4: with QRESYNC, a FETCH that sets \Seen carries UID and MODSEQ.
  if (session.qresync && setsSeen) {
    if (!items.some((i) => i.kind === "UID")) items.unshift({ kind: "UID" });
    if (!items.some((i) => i.kind === "MODSEQ")) items.push({ kind: "MODSEQ" });
  }
  if (changedSince !== undefined) {
    // RFC 7162 §3.1.4.1: only messages whose MODSEQ is above CHANGEDSINCE; ask the MODSEQ
    // index which those are instead of reading every message of the set (a resync of a
    // 100 000-message folder after a few changes reads a few rows).
    const changes = await session.storage.changesSince(sel.mailboxId, changedSince);
    const changed = new Set(changes.upserts.map((u) => u.uid));
    uids = uids.filter((u) => changed.has(u));
    if (vanished) await sendVanishedEarlier(session, set, changes.expunged);
  }
  const needRaw = items.some((i) => i.kind === "section" || i.kind === "binary" || i.kind === "binary-size" || i.kind === "PREVIEW");
  const needStructure = needRaw || items.some((i) => i.kind === "ENVELOPE" || i.kind === "BODYSTRUCTURE" || i.kind === "BODY");
  const needRecord = needStructure || items.some((i) => i.kind === "INTERNALDATE" || i.kind === "RFC822.SIZE" || i.kind === "EMAILID");
  // A header listing (ENVELOPE, BODYSTRUCTURE and the small items) reads the response texts
  // stored with the messages instead of building them from the structures.
  const summaries = Boolean(session.storage.fetchSummaries) && items.every((i) => SUMMARY_ITEMS.has(i.kind)) && items.some((i) => i.kind === "ENVELOPE" || i.kind === "BODYSTRUCTURE");
  const size = needRaw ? RAW_BATCH : BATCH;
  const load = (start: number): Promise<Fetched[]> => {
    const batch = uids.slice(start, start + size);
    const read: Promise<Fetched[]> = summaries
      ? session.storage.fetchSummaries!(sel.mailboxId, batch)
      : needRecord
        ? session.storage.fetch(sel.mailboxId, batch, { raw: needRaw })
        : (session.storage.fetchFlags(sel.mailboxId, batch) as Promise<MessageData[]>);
    // A read started ahead whose batch is never reached (NO UNKNOWN-CTE, an error) must not fail the process.
    read.catch(() => undefined);
    return read;
  };
  // The next batch is read while this one is encoded and written, so the database and the
  // encoder work side by side; with bodies only while this batch's are small (RAW_AHEAD_OCTETS),
  // so that at most one large batch of them is in memory.
  let next: Promise<Fetched[]> | undefined = uids.length ? load(0) : undefined;
  for (let start = 0; start < uids.length; start += size) {
    let messages = await next!;
    const ahead = !needRaw || messages.reduce((n, m) => n + m.size, 0) <= RAW_AHEAD_OCTETS;
    next = start + size < uids.length && ahead ? load(start + size) : undefined;
    if (changedSince !== undefined) messages = messages.filter((m) => m.modseq > changedSince!);
    let seenNow = new Map<number, { flags: string[]; modseq: number }>();
    if (setsSeen) {
      const unseen = messages.filter((m) => !m.flags.includes("\\Seen")).map((m) => m.uid);
      if (unseen.length) {
        const r = await session.storage.store(sel.mailboxId, unseen, "add", ["\\Seen"]);
        seenNow = new Map(r.updated.map((u) => [u.uid, u]));
      }
    }
    if (items.some((i) => i.kind === "FLAGS") || setsSeen) await session.announceKeywords(messages.flatMap((m) => m.flags));
    const out = new ResponseBatch((data) => session.write(data));
    for (const m of messages) {
      const seq = sequenceNumberOf(sel.uids, m.uid);
      if (!seq) continue;
      const changed = seenNow.get(m.uid);
      if (changed) {
        m.flags = changed.flags;
        m.modseq = changed.modseq;
        sel.reported.set(m.uid, changed.modseq);
      }
      const shown = session.shownFlags(m.uid, m.flags);
      if (shown !== m.flags) m.flags = [...shown];
      const line = "envelopeItem" in m ? summaryLine(seq, items, m, session.condstore) : undefined;
      if (line !== undefined) {
        await out.pushText(line);
        continue;
      }
      const values: ImapValue[] = [];
      try {
        for (const item of items) values.push(...(item.kind === "PREVIEW" ? [atom("PREVIEW"), preview(session, full(m))] : render(item, m, session.condstore)));
      } catch (e) {
        if (e instanceof UnknownCte) {
          await out.flush();
          return { status: "NO", code: "UNKNOWN-CTE", text: e.message };
        }
        throw e;
      }
      if (changed && !items.some((i) => i.kind === "FLAGS")) values.push(atom("FLAGS"), m.flags.map(atom));
      await out.push(untagged([seq, atom("FETCH"), values], { utf8: session.utf8 }));
    }
    await out.flush();
    if (!next && start + size < uids.length) next = load(start + size);
  }
  return { status: "OK", text: `${uid ? "UID " : ""}FETCH completed` };
};

/**
 * RFC 7162 §3.2.6: `VANISHED (EARLIER)` for the UIDs of the set expunged after CHANGEDSINCE
 * (the expunge history keeps every one). `*` reaches past the highest UID in use, since an
 * expunged UID may lie above it. UIDs this session still shows are left to its own
 * VANISHED, when the expunge is reported.
 */
async function sendVanishedEarlier(session: CommandSession, set: SequenceSet, expunged: readonly number[]): Promise<void> {
  const sel = session.selected!;
  const ranges = uidRanges(set, Number.MAX_SAFE_INTEGER);
  const gone = expunged.filter((u) => ranges.some(([lo, hi]) => u >= lo && u <= hi) && sequenceNumberOf(sel.uids, u) === 0);
  if (gone.length) await session.write(Buffer.from(`* VANISHED (EARLIER) ${compactSet(gone)}\r\n`));
}

/** RFC 8970 §3: the message's preview (preview.ts); "" when it has no text part. */
function preview(session: CommandSession, m: MessageData): string {
  const part = previewPart(m.bodyStructure);
  if (!part || !m.raw || !session.storage.partText) return "";
  return previewOf(session.storage.partText(m.raw, part), part.subtype);
}

/** What a batch read gives: whole records, or summaries (`fetchSummaries`) for a header listing. */
type Fetched = MessageData | MessageSummary;

/** The items a summary answers. */
const SUMMARY_ITEMS = new Set<FetchItem["kind"]>(["FLAGS", "UID", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "MODSEQ", "EMAILID", "THREADID"]);

/**
 * A summary's FETCH response written straight as text (a header listing of 10 000
 * messages built 10 000 value trees to encode them): the same octets `render` and the
 * encoder give, for the summary items, whose values are numbers, atoms, a quotable date
 * and the stored texts. Undefined when ENVELOPE or BODYSTRUCTURE has no stored text (a
 * literal's form depends on the session): then the values are encoded as usual.
 */
function summaryLine(seq: number, items: readonly FetchItem[], m: MessageSummary, condstore: boolean): string | undefined {
  const envelope = textOf(m.envelopeItem);
  const bodyStructure = textOf(m.bodyStructureItem);
  const parts: string[] = [];
  for (const item of items) {
    switch (item.kind) {
      case "FLAGS":
        parts.push(`FLAGS (${m.flags.join(" ")})`);
        break;
      case "UID":
        parts.push(`UID ${m.uid}`);
        break;
      case "INTERNALDATE":
        parts.push(`INTERNALDATE "${formatDateTime(m.internalDate)}"`);
        break;
      case "RFC822.SIZE":
        parts.push(`RFC822.SIZE ${m.size}`);
        break;
      case "ENVELOPE":
        if (envelope === undefined) return undefined;
        parts.push(`ENVELOPE ${envelope}`);
        break;
      case "BODYSTRUCTURE":
        if (bodyStructure === undefined) return undefined;
        parts.push(`BODYSTRUCTURE ${bodyStructure}`);
        break;
      case "MODSEQ":
        if (condstore) parts.push(`MODSEQ (${m.modseq})`);
        break;
      case "EMAILID":
        parts.push(`EMAILID ${m.blobId ? `(${emailObjectId(m.blobId)})` : "NIL"}`);
        break;
      case "THREADID":
        parts.push("THREADID NIL");
        break;
      default:
        return undefined;
    }
  }
  return `* ${seq} FETCH (${parts.join(" ")})\r\n`;
}

/** The text of an atom (a stored response text), else undefined. */
function textOf(v: ImapValue): string | undefined {
  return v !== null && typeof v === "object" && "atom" in v ? v.atom : undefined;
}

/** The whole record, for the items a summary does not answer (they are never fetched as summaries). */
function full(m: Fetched): MessageData {
  if ("envelopeItem" in m) throw new Error("a message summary has no structure");
  return m;
}

function render(item: Exclude<FetchItem, { kind: "PREVIEW" }>, m: Fetched, condstore: boolean): ImapValue[] {
  switch (item.kind) {
    case "FLAGS":
      return [atom("FLAGS"), m.flags.map(atom)];
    case "UID":
      return [atom("UID"), m.uid];
    case "INTERNALDATE":
      return [atom("INTERNALDATE"), formatDateTime(m.internalDate)];
    case "RFC822.SIZE":
      return [atom("RFC822.SIZE"), m.size];
    case "ENVELOPE":
      return [atom("ENVELOPE"), "envelopeItem" in m ? m.envelopeItem : envelopeValue(m.envelope)];
    case "BODYSTRUCTURE":
      return [atom("BODYSTRUCTURE"), "bodyStructureItem" in m ? m.bodyStructureItem : bodyStructureValue(m.bodyStructure, true)];
    case "BODY":
      return [atom("BODY"), bodyStructureValue(full(m).bodyStructure, false)];
    case "MODSEQ":
      return condstore ? [atom("MODSEQ"), [m.modseq]] : [];
    // RFC 8474 §5.1, §5.2 (objectid.ts)
    case "EMAILID":
      return [atom("EMAILID"), m.blobId ? [atom(emailObjectId(m.blobId))] : null];
    case "THREADID":
      return [atom("THREADID"), null];
    case "section": {
      const { raw, bodyStructure } = full(m);
      let bytes = raw ? sectionBytes(raw, bodyStructure, item.spec) : undefined;
      let name = item.name === "BODY" ? `BODY[${sectionName(item.spec)}]` : item.name;
      if (item.partial) {
        const [origin, length] = item.partial;
        name += `<${origin}>`;
        if (bytes) bytes = bytes.subarray(origin, length === undefined ? undefined : origin + length);
      }
      return [atom(name), bytes ?? (item.partial ? Buffer.alloc(0) : null)];
    }
    case "binary": {
      let bytes = decoded(full(m), item.path);
      let name = `BINARY[${item.path.join(".")}]`;
      if (item.partial) {
        const [origin, length] = item.partial;
        name += `<${origin}>`;
        if (bytes) bytes = bytes.subarray(origin, length === undefined ? undefined : origin + length);
      }
      // RFC 3516 §4.3: content with NULs goes as a literal8; other content as a literal.
      return [atom(name), bytes === undefined ? null : bytes.includes(0) ? { literal8: bytes } : bytes];
    }
    case "binary-size":
      return [atom(`BINARY.SIZE[${item.path.join(".")}]`), decoded(full(m), item.path)?.length ?? 0];
  }
}

function decoded(m: MessageData, path: number[]): Buffer | undefined {
  const d = m.raw ? binaryContent(m.raw, m.bodyStructure, path) : undefined;
  if (d && "unknownCte" in d) throw new UnknownCte(`part ${path.join(".")} has the content-transfer-encoding ${d.unknownCte}, which this server cannot decode`);
  return d?.bytes;
}
