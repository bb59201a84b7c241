import type { CommandHandler } from "../command.js";
import { orderedSubjectThreadList, threadOrderedSubject } from "../sort.js";
import { referencesThreadList, threadReferences } from "../thread.js";
import { parseThread } from "../syntax/thread.js";
import { threadInputs } from "./sort-input.js";

/** RFC 5256 §3 THREAD / UID THREAD with the ORDEREDSUBJECT and REFERENCES algorithms; charsets UTF-8, US-ASCII. */
export const thread: CommandHandler = async ({ session, args, uid }) => {
  const { algorithm, keys } = parseThread(args, { rev2: session.rev2 });
  // ORDEREDSUBJECT reads only the subject and the sent date; REFERENCES the References header besides.
  const { inputs } = await threadInputs(session, keys, algorithm === "REFERENCES");
  const number = (m: { uid: number; seq: number }) => (uid ? m.uid : m.seq);
  const list =
    algorithm === "REFERENCES"
      ? referencesThreadList(threadReferences(inputs), number)
      : orderedSubjectThreadList(threadOrderedSubject(inputs).map((t) => t.map(number)));
  await session.write(Buffer.from(`* THREAD${list ? ` ${list}` : ""}\r\n`));
  return { status: "OK", text: `${uid ? "UID " : ""}THREAD completed` };
};
