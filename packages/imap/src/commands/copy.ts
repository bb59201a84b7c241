import { compactSet, resolveSequenceNumbers, resolveUids } from "../sequence.js";
import { sequenceSetOf } from "../searchres.js";
import type { CommandHandler } from "../command.js";
import { isRefusal } from "../storage.js";
import { mailboxName } from "./arguments.js";
import { parseCopy } from "../syntax/copy.js";

/** RFC 3501 §6.4.7 COPY and RFC 6851 MOVE (and UID variants), answering COPYUID (RFC 4315 §3). */
export const copy: CommandHandler = async ({ session, args, uid, name }) => {
  const sel = session.selected!;
  const move = name.endsWith("MOVE");
  const request = parseCopy(args, name);
  const set = sequenceSetOf(sel, request.set, uid);
  if (move && sel.readOnly) return { status: "NO", code: "READ-ONLY", text: "the mailbox is selected read-only (EXAMINE)" };
  const dest = mailboxName(session, request.mailbox);
  const uids = uid ? resolveUids(set, sel.uids) : resolveSequenceNumbers(set, sel.uids);
  if (uids.length === 0) return { status: "OK", text: `${name} completed (nothing to do)` };
  const result = move
    ? await session.storage.move(session.user!, sel.mailboxId, uids, dest)
    : await session.storage.copy(session.user!, sel.mailboxId, uids, dest);
  if (session.selected === sel && sel.name === dest) sel.dirty = true; // copies into itself are seen before the OK
  if (isRefusal(result)) {
    if (result.refused === "nonexistent") return { status: "NO", code: "TRYCREATE", text: result.text };
    if (result.refused === "over-quota") return { status: "NO", code: "OVERQUOTA", text: result.text };
    return { status: "NO", text: result.text };
  }
  const code = result.pairs.length
    ? `COPYUID ${result.uidValidity} ${compactSet(result.pairs.map((p) => p[0]))} ${compactSet(result.pairs.map((p) => p[1]))}`
    : undefined;
  if (move) {
    const expunged = (result as { expunged?: number[] }).expunged ?? [];
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGE responses.
    if (code) await session.write(Buffer.from(`* OK [${code}] moved\r\n`));
    await session.reportExpunged(expunged);
    return { status: "OK", text: `${name} completed` };
  }
  return code ? { status: "OK", code, text: `${name} completed` } : { status: "OK", text: `${name} completed` };
};
