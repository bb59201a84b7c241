import { atom } from "../encoder.js";
import type { CommandHandler } from "../session.js";
import { isRefusal, SYSTEM_FLAGS } from "../storage.js";
import { URLAUTH_MECHANISMS } from "../urlauth.js";
import { mailboxName } from "./arguments.js";

/** RFC 3501 §6.3.1 SELECT and §6.3.2 EXAMINE, with CONDSTORE's HIGHESTMODSEQ (RFC 7162 §3.1.2). */
export const select: CommandHandler = async ({ session, args, name }) => {
  if (args.length < 1) return { status: "BAD", text: `${name} takes a mailbox name` };
  const box = mailboxName(session, args[0]);
  if (args[1]) {
    const params = args[1].type === "list" ? args[1].items : [];
    if (params.some((p) => p.type === "atom" && p.value.toUpperCase() === "CONDSTORE")) session.condstore = true;
  }
  // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
  session.unselect();
  const readOnly = name === "EXAMINE";
  const info = await session.storage.select(session.user!, box, { claimRecent: !readOnly });
  if (isRefusal(info)) return { status: "NO", code: "NONEXISTENT", text: info.text };
  await session.send([info.uids.length, atom("EXISTS")]);
  await session.send([info.recentUids.length, atom("RECENT")]);
  const flags = [...SYSTEM_FLAGS, ...info.keywordsInUse];
  await session.send([atom("FLAGS"), flags.map(atom)]);
  await session.write(Buffer.from(`* OK [PERMANENTFLAGS (${readOnly ? "" : [...flags, "\\*"].join(" ")})] flags permitted\r\n`));
  if (info.firstUnseenUid !== null) {
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
