import type { Completion } from "../encoder.js";
import type { CommandHandler, ImapSession } from "../session.js";
import { astring } from "./arguments.js";

/** RFC 3501 §6.2.3 */
export const login: CommandHandler = async ({ session, args }) => {
  if (args.length !== 2) return { status: "BAD", text: "LOGIN takes a user name and a password" };
  return logIn(session, astring(args[0], "the user name"), astring(args[1], "the password"));
};

export async function logIn(session: ImapSession, user: string, password: string): Promise<Completion> {
  const account = await session.storage.authenticate(user, password);
  if (!account) {
    session.opts.observer?.authFailed?.(user);
    await session.opts.delayAfterAuthFailure?.();
    return { status: "NO", code: "AUTHENTICATIONFAILED", text: "invalid user name or password" };
  }
  session.user = account;
  session.state = "authenticated";
  session.opts.observer?.loggedIn?.(account);
  return { status: "OK", code: `CAPABILITY ${session.capabilities().join(" ")}`, text: "logged in" };
}
