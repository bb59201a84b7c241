import { atom, type ImapValue } from "../encoder.js";
import { compactSet, sequenceNumberOf } from "../sequence.js";
import type { CommandHandler, CommandSession } from "../command.js";
import { isRefusal, SYSTEM_FLAGS } from "../storage.js";
import { inRanges, parseSelect, SelectParamError, type QresyncParams } from "../syntax/select.js";
import { URLAUTH_MECHANISMS } from "../urlauth.js";
import { mailboxName } from "./arguments.js";
import { DELIMITER, nameValue } from "./list.js";
import { mailboxObjectId } from "../objectid.js";

/**
 * RFC 3501 §6.3.1 SELECT and §6.3.2 EXAMINE, with CONDSTORE's HIGHESTMODSEQ (RFC 7162
 * §3.1.2) and QRESYNC's resynchronization (§3.2.5): what changed and vanished since the
 * client's MODSEQ, and `OK [CLOSED]` for the mailbox this command closes (§3.2.11; for
 * IMAP4rev2 sessions too, RFC 9051 §6.3.2).
 */
export const select: CommandHandler = async ({ session, args, name }) => {
  let request;
  try {
    request = parseSelect(args, name);
  } catch (error) {
    if (error instanceof SelectParamError) return { status: "BAD", text: error.message };
    throw error;
  }
  const { params } = request;
  const box = mailboxName(session, request.mailbox);
  // RFC 7162 §3.2.5: QRESYNC without ENABLE QRESYNC first is BAD.
  if (params.qresync && !session.qresync) return { status: "BAD", text: "QRESYNC needs ENABLE QRESYNC first" };
  if (params.condstore) session.condstore = true;
  // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected; RFC 7162 §3.2.11 and
  // RFC 9051 §6.3.2: with QRESYNC, and in IMAP4rev2, the client learns so from [CLOSED]
  // before the new mailbox's responses.
  if (session.selected) {
    session.unselect();
    if (session.qresync || session.rev2) await session.write(Buffer.from("* OK [CLOSED] previous mailbox closed\r\n"));
  }
  const readOnly = name === "EXAMINE";
  const info = await session.storage.select(session.user!, box, { claimRecent: !readOnly });
  if (isRefusal(info)) return { status: "NO", code: "NONEXISTENT", text: info.text };
  await session.send([info.uids.length, atom("EXISTS")]);
  // RFC 9051 Appendix E: IMAP4rev2 has no RECENT response; it requires a LIST of the mailbox.
  if (!session.rev2) await session.send([info.recentUids.length, atom("RECENT")]);
  else await session.send(selectedListLine(session, box, request.mailbox));
  const flags = [...SYSTEM_FLAGS, ...info.keywordsInUse];
  await session.send([atom("FLAGS"), flags.map(atom)]);
  await session.write(Buffer.from(`* OK [PERMANENTFLAGS (${readOnly ? "" : [...flags, "\\*"].join(" ")})] flags permitted\r\n`));
  // RFC 9051 §6.3.2 no longer has the UNSEEN response code (SEARCH UNSEEN finds it).
  if (info.firstUnseenUid !== null && !session.rev2) {
    const seq = sequenceNumberOf(info.uids, info.firstUnseenUid);
    if (seq > 0) await session.write(Buffer.from(`* OK [UNSEEN ${seq}] first unseen message\r\n`));
  }
  await session.write(Buffer.from(`* OK [UIDVALIDITY ${info.uidValidity}] UIDs valid\r\n`));
  await session.write(Buffer.from(`* OK [UIDNEXT ${info.uidNext}] predicted next UID\r\n`));
  await session.write(Buffer.from(`* OK [HIGHESTMODSEQ ${info.highestModseq}] highest modseq\r\n`));
  // RFC 4467 §6: the URL authorization mechanisms this mailbox's URLs may use.
  await session.write(Buffer.from(`* OK [URLMECH ${URLAUTH_MECHANISMS.join(" ")}] URLAUTH mechanisms\r\n`));
  await session.write(Buffer.from(`* OK [MAILBOXID (${mailboxObjectId(info.mailboxId)})] mailbox id\r\n`)); // RFC 8474 §4.1
  session.setSelected({
    mailboxId: info.mailboxId,
    name: box,
    readOnly,
    uidValidity: info.uidValidity,
    uids: info.uids,
    knownModseq: info.highestModseq,
    recent: new Set(info.recentUids),
    keywords: info.keywordsInUse,
  });
  // §3.2.5: a different UIDVALIDITY means the client's cache is void; nothing to resync.
  if (params.qresync && params.qresync.uidValidity === info.uidValidity) await resync(session, params.qresync);
  return { status: "OK", code: readOnly ? "READ-ONLY" : "READ-WRITE", text: `${name} completed` };
};

/**
 * RFC 7162 §3.2.5.1: `VANISHED (EARLIER)` for the known UIDs expunged since the client's
 * MODSEQ, then a FETCH (UID, FLAGS, MODSEQ) for each known message changed since it. The
 * whole expunge history is kept (mailbox_expunges), so seq-match-data is not needed.
 * A change newer than the snapshot the SELECT read is left to the next update report.
 */
async function resync(session: CommandSession, q: QresyncParams): Promise<void> {
  const sel = session.selected!;
  const changes = await session.storage.changesSince(sel.mailboxId, q.modseq);
  if (session.selected !== sel) return;
  const vanished = changes.expunged.filter((u) => inRanges(q.knownUids, u) && sequenceNumberOf(sel.uids, u) === 0);
  if (vanished.length) await session.write(Buffer.from(`* VANISHED (EARLIER) ${compactSet(vanished)}\r\n`));
  const changed = changes.upserts.filter((u) => u.modseq <= sel.knownModseq && inRanges(q.knownUids, u.uid));
  await session.announceKeywords(changed.flatMap((u) => u.flags));
  for (const u of changed) {
    const seq = sequenceNumberOf(sel.uids, u.uid);
    if (!seq) continue;
    sel.reported.set(u.uid, u.modseq);
    await session.send([seq, atom("FETCH"), [atom("UID"), u.uid, atom("FLAGS"), session.flagValues(u.uid, u.flags), atom("MODSEQ"), [u.modseq]]]);
  }
}

/**
 * RFC 9051 §6.3.2: the untagged LIST an IMAP4rev2 SELECT/EXAMINE sends (its attributes may be
 * left out); when the client's spelling was not in NFC, OLDNAME gives it (§6.3.9.7).
 */
export function selectedListLine(session: CommandSession, box: string, supplied: string): ImapValue[] {
  const line: ImapValue[] = [atom("LIST"), [], DELIMITER, nameValue(session, box)];
  if (supplied.normalize("NFC") !== supplied) line.push(["OLDNAME", [supplied]]);
  return line;
}
