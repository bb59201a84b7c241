import type { CommandHandler } from "../command.js";
import { orderedSubjectThreadList, threadOrderedSubject } from "../sort.js";
import { referencesThreadList, threadReferences } from "../thread.js";
import { astring } from "../syntax/arguments.js";
import { threadInputs } from "./sort-input.js";

/** RFC 5256 §3 THREAD / UID THREAD with the ORDEREDSUBJECT and REFERENCES algorithms; charsets UTF-8, US-ASCII. */
export const thread: CommandHandler = async ({ session, args, uid }) => {
  const [algorithmToken, charsetToken, ...rest] = args;
  if (algorithmToken?.type !== "atom") return { status: "BAD", text: "THREAD needs a threading algorithm" };
  const algorithm = algorithmToken.value.toUpperCase();
  if (algorithm !== "ORDEREDSUBJECT" && algorithm !== "REFERENCES") return { status: "BAD", text: `THREAD: unsupported algorithm ${algorithmToken.value}` };
  const charset = astring(charsetToken, "the THREAD charset").toUpperCase();
  if (rest.length === 0) return { status: "BAD", text: "THREAD needs search criteria" };
  if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
  // ORDEREDSUBJECT reads only the subject and the sent date; REFERENCES the References header besides.
  const { inputs } = await threadInputs(session, rest, algorithm === "REFERENCES");
  const number = (m: { uid: number; seq: number }) => (uid ? m.uid : m.seq);
  const list =
    algorithm === "REFERENCES"
      ? referencesThreadList(threadReferences(inputs), number)
      : orderedSubjectThreadList(threadOrderedSubject(inputs).map((t) => t.map(number)));
  await session.write(Buffer.from(`* THREAD${list ? ` ${list}` : ""}\r\n`));
  return { status: "OK", text: `${uid ? "UID " : ""}THREAD completed` };
};
