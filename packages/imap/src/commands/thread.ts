import type { CommandHandler } from "../session.js";
import { orderedSubjectThreadList, threadOrderedSubject } from "../sort.js";
import { astring } from "./arguments.js";
import { sortInputs } from "./sort-input.js";

/** RFC 5256 §3 THREAD / UID THREAD with the ORDEREDSUBJECT algorithm; charsets UTF-8, US-ASCII. */
export const thread: CommandHandler = async ({ session, args, uid }) => {
  const [algorithm, charsetToken, ...rest] = args;
  if (algorithm?.type !== "atom") return { status: "BAD", text: "THREAD needs a threading algorithm" };
  if (algorithm.value.toUpperCase() !== "ORDEREDSUBJECT") return { status: "BAD", text: `THREAD: unsupported algorithm ${algorithm.value}` };
  const charset = astring(charsetToken, "the THREAD charset").toUpperCase();
  if (rest.length === 0) return { status: "BAD", text: "THREAD needs search criteria" };
  if (charset !== "UTF-8" && charset !== "US-ASCII") return { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: `charset ${charset} is not supported` };
  // ORDEREDSUBJECT reads only the subject and the sent date.
  const { inputs } = await sortInputs(session, rest);
  const threads = threadOrderedSubject(inputs);
  const list = orderedSubjectThreadList(threads.map((t) => t.map((m) => (uid ? m.uid : m.seq))));
  await session.write(Buffer.from(`* THREAD${list ? ` ${list}` : ""}\r\n`));
  return { status: "OK", text: `${uid ? "UID " : ""}THREAD completed` };
};
