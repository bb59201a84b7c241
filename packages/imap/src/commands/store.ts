import { ResponseBatch } from "../response-batch.js";
import { compactSet, resolveSequenceNumbers, resolveUids, sequenceNumberOf } from "../sequence.js";
import { sequenceSetOf } from "../searchres.js";
import type { CommandHandler } from "../command.js";
import { parseStore } from "../syntax/store.js";

/** RFC 3501 §6.4.6 STORE / UID STORE, with UNCHANGEDSINCE (RFC 7162 §3.1.3). */
export const store: CommandHandler = async ({ session, args, uid }) => {
  const sel = session.selected!;
  if (sel.readOnly) return { status: "NO", code: "READ-ONLY", text: "the mailbox is selected read-only (EXAMINE)" };
  const { set: arg, unchangedSince, mode, silent, flags } = parseStore(args);
  const set = sequenceSetOf(sel, arg, uid);
  if (unchangedSince !== undefined) await session.enableCondstore();
  const uids = uid ? resolveUids(set, sel.uids) : resolveSequenceNumbers(set, sel.uids);
  const result = await session.storage.store(sel.mailboxId, uids, mode, flags, unchangedSince);
  const updated = new Map(result.updated.map((u) => [u.uid, u]));
  // Answer with FLAGS for every message asked about (unless .SILENT): changed ones from the
  // result, the others as they are. With UNCHANGEDSINCE, MODSEQ goes out even when silent.
  const unchanged = uids.filter((u) => !updated.has(u) && !result.modified.includes(u));
  const current = silent ? [] : await session.storage.fetchFlags(sel.mailboxId, unchanged);
  const answers = [...result.updated, ...current].sort((a, b) => a.uid - b.uid);
  // RFC 3501 §7.2.6: a keyword new to the mailbox is declared in FLAGS before it shows up,
  // this command's own and any another session set on these messages meanwhile.
  await session.announceKeywords([...(mode === "remove" ? [] : flags), ...answers.flatMap((a) => a.flags)]);
  // The responses are written as text: their items are numbers and atoms (flags), so no
  // value tree per message is built and encoded (STORE 1:* of 10 000 messages).
  const out = new ResponseBatch((data) => session.write(data));
  const withUid = uid || session.qresync; // RFC 7162 §3.2.4: with QRESYNC every FETCH of a STORE carries the UID.
  const withModseq = session.condstore && (!silent || unchangedSince !== undefined);
  for (const a of answers) {
    const seq = sequenceNumberOf(sel.uids, a.uid);
    if (!seq) continue;
    sel.reported.set(a.uid, a.modseq);
    const items: string[] = [];
    if (withUid) items.push(`UID ${a.uid}`);
    if (!silent) items.push(`FLAGS (${session.shownFlags(a.uid, a.flags).join(" ")})`);
    if (withModseq) items.push(`MODSEQ (${a.modseq})`);
    if (items.length > (withUid ? 1 : 0)) await out.pushText(`* ${seq} FETCH (${items.join(" ")})\r\n`);
  }
  await out.flush();
  if (result.modified.length) {
    const modified = uid ? result.modified : result.modified.map((u) => sequenceNumberOf(sel.uids, u)).filter(Boolean);
    return { status: "OK", code: `MODIFIED ${compactSet(modified)}`, text: "some messages were changed by others meanwhile" };
  }
  return { status: "OK", text: `${uid ? "UID " : ""}STORE completed` };
};
