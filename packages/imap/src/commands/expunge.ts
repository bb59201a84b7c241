import { resolveUids } from "../sequence.js";
import { sequenceSetOf } from "../searchres.js";
import { parseExpunge } from "../syntax/expunge.js";
import type { CommandHandler } from "../command.js";

/** RFC 3501 §6.4.3 EXPUNGE and RFC 4315 §2.1 UID EXPUNGE. */
export const expunge: CommandHandler = async ({ session, args, uid }) => {
  const sel = session.selected!;
  if (sel.readOnly) return { status: "NO", code: "READ-ONLY", text: "the mailbox is selected read-only (EXAMINE)" };
  const request = parseExpunge(args, uid);
  let only: number[] | undefined;
  if (request.uids) {
    only = resolveUids(sequenceSetOf(sel, request.uids, true), sel.uids);
    if (only.length === 0) return { status: "OK", text: "UID EXPUNGE completed" };
  }
  const result = await session.storage.expunge(sel.mailboxId, only);
  await session.reportExpunged(result.expunged);
  return { status: "OK", code: session.condstore ? `HIGHESTMODSEQ ${result.modseq}` : undefined, text: `${uid ? "UID " : ""}EXPUNGE completed` };
};
