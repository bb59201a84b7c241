import type { Completion } from "../encoder.js";
import type { CommandHandler, CommandSession, LoginAttemptOutcome } from "../command.js";
import type { ImapUser } from "../storage.js";
import { parseLogin } from "../syntax/login.js";

/** RFC 3501 §6.2.3 */
export const login: CommandHandler = async ({ session, args }) => {
  const { user, password } = parseLogin(args);
  return logIn(session, user, password);
};

export async function logIn(session: CommandSession, user: string, password: string): Promise<Completion> {
  const check = () => session.storage.authenticate(user, password);
  const outcome = session.opts.guardLogin ? await session.opts.guardLogin(user, check) : await unguarded(session, check);
  if (outcome.outcome === "refused") {
    // RFC 5530 §3: UNAVAILABLE, a temporary failure; this client address has failed too often.
    const seconds = Math.ceil(outcome.retryAfterMs / 1000);
    return { status: "NO", code: "UNAVAILABLE", text: `too many failed logins from your address, try again in ${seconds} seconds` };
  }
  if (outcome.outcome === "failed") {
    session.opts.observer?.authFailed?.(user);
    return { status: "NO", code: "AUTHENTICATIONFAILED", text: "invalid user name or password" };
  }
  const account = outcome.account;
  session.user = account;
  session.state = "authenticated";
  session.opts.observer?.loggedIn?.(account);
  return { status: "OK", code: `CAPABILITY ${session.capabilities().join(" ")}`, text: "logged in" };
}

async function unguarded(session: CommandSession, check: () => Promise<ImapUser | undefined>): Promise<LoginAttemptOutcome> {
  const account = await check();
  if (account) return { outcome: "ok", account };
  await session.opts.delayAfterAuthFailure?.();
  return { outcome: "failed" };
}
