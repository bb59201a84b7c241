import { atom, type ImapValue } from "../encoder.js";
import { textOf } from "../parser.js";
import type { CommandHandler, ImapSession } from "../session.js";
import { isRefusal, SYSTEM_FLAGS } from "../storage.js";
import { URLAUTH_MECHANISMS } from "../urlauth.js";
import { mailboxName } from "./arguments.js";
import { DELIMITER, nameValue } from "./list.js";

/** RFC 3501 §6.3.1 SELECT and §6.3.2 EXAMINE, with CONDSTORE's HIGHESTMODSEQ (RFC 7162 §3.1.2). */
export const select: CommandHandler = async ({ session, args, name }) => {
  if (args.length < 1) return { status: "BAD", text: `${name} takes a mailbox name` };
  const box = mailboxName(session, args[0]);
  if (args[1]) {
    const params = args[1].type === "list" ? args[1].items : [];
    if (params.some((p) => p.type === "atom" && p.value.toUpperCase() === "CONDSTORE")) session.condstore = true;
  }
  // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected. RFC 9051 §6.3.2: an
  // IMAP4rev2 session is told with OK [CLOSED] that the mailbox selected before is closed.
  const closing = session.selected !== undefined;
  session.unselect();
  if (closing && session.rev2) await session.write(Buffer.from("* OK [CLOSED] previous mailbox closed\r\n"));
  const readOnly = name === "EXAMINE";
  const info = await session.storage.select(session.user!, box, { claimRecent: !readOnly });
  if (isRefusal(info)) return { status: "NO", code: "NONEXISTENT", text: info.text };
  await session.send([info.uids.length, atom("EXISTS")]);
  // RFC 9051 Appendix E: IMAP4rev2 has no RECENT response; it requires a LIST of the mailbox.
  if (!session.rev2) await session.send([info.recentUids.length, atom("RECENT")]);
  else await session.send(selectedListLine(session, box, textOf(args[0]) ?? box));
  const flags = [...SYSTEM_FLAGS, ...info.keywordsInUse];
  await session.send([atom("FLAGS"), flags.map(atom)]);
  await session.write(Buffer.from(`* OK [PERMANENTFLAGS (${readOnly ? "" : [...flags, "\\*"].join(" ")})] flags permitted\r\n`));
  // RFC 9051 §6.3.2 no longer has the UNSEEN response code (SEARCH UNSEEN finds it).
  if (info.firstUnseenUid !== null && !session.rev2) {
    const seq = info.uids.indexOf(info.firstUnseenUid) + 1;
    if (seq > 0) await session.write(Buffer.from(`* OK [UNSEEN ${seq}] first unseen message\r\n`));
  }
  await session.write(Buffer.from(`* OK [UIDVALIDITY ${info.uidValidity}] UIDs valid\r\n`));
  await session.write(Buffer.from(`* OK [UIDNEXT ${info.uidNext}] predicted next UID\r\n`));
  await session.write(Buffer.from(`* OK [HIGHESTMODSEQ ${info.highestModseq}] highest modseq\r\n`));
  // RFC 4467 §6: the URL authorization mechanisms this mailbox's URLs may use.
  await session.write(Buffer.from(`* OK [URLMECH ${URLAUTH_MECHANISMS.join(" ")}] URLAUTH mechanisms\r\n`));
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
  return { status: "OK", code: readOnly ? "READ-ONLY" : "READ-WRITE", text: `${name} completed` };
};

/**
 * RFC 9051 §6.3.2: the untagged LIST an IMAP4rev2 SELECT/EXAMINE sends (its attributes may be
 * left out); when the client's spelling was not in NFC, OLDNAME gives it (§6.3.9.7).
 */
export function selectedListLine(session: ImapSession, box: string, supplied: string): ImapValue[] {
  const line: ImapValue[] = [atom("LIST"), [], DELIMITER, nameValue(session, box)];
  if (supplied.normalize("NFC") !== supplied) line.push(["OLDNAME", [supplied]]);
  return line;
}
