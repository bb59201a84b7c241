/**
 * The end of every login, by PASS (RFC 1939 §7) or AUTH (RFC 5034): the password check
 * (through the login guard), then the maildrop lock (RFC 1939 §8) and TRANSACTION.
 */
import { releaseMaildrop, totals, type Pop3Context } from "./context.js";
import { err, ok, type Pop3Response } from "./response.js";
import { ResponseCode, withCode } from "./response-codes.js";
import type { LoginAttemptOutcome, Pop3Account } from "./storage.js";

const DEFAULT_MAX_AUTH_FAILURES = 3;

export const PLAINTEXT_REFUSED = withCode(ResponseCode.auth, "plaintext authentication is not allowed on this connection: use STLS first");

async function unguarded(ctx: Pop3Context, check: () => Promise<Pop3Account | undefined>): Promise<LoginAttemptOutcome> {
  const account = await check();
  if (account) return { outcome: "ok", account };
  await ctx.options.delayAfterAuthFailure?.();
  return { outcome: "failed", delayMs: 0 };
}

/** Checks the credentials, then locks the maildrop and enters TRANSACTION. */
export async function login(ctx: Pop3Context, user: string, password: string): Promise<Pop3Response> {
  const { options } = ctx;
  const check = () => options.authenticator.authenticate(user, password);
  const outcome = options.guardLogin ? await options.guardLogin(user, check) : await unguarded(ctx, check);
  if (outcome.outcome === "refused") {
    // RFC 3206 §4: SYS/TEMP, a temporary problem; this client address has failed too often.
    return err(withCode(ResponseCode.sysTemp, `too many failed logins from your address, try again in ${Math.ceil(outcome.retryAfterMs / 1000)} seconds`));
  }
  if (outcome.outcome === "failed") {
    ctx.authFailures++;
    options.observer?.authFailed?.(user);
    const close = ctx.authFailures >= (options.maxAuthFailures ?? DEFAULT_MAX_AUTH_FAILURES);
    // RFC 3206 §5: [AUTH] tells the client the credentials are wrong, not the server.
    const text = close ? "invalid user name or password, closing" : "invalid user name or password";
    return { ...err(withCode(ResponseCode.auth, text)), close };
  }

  const account = outcome.account;
  const maildrop = await options.store.open(account);
  // RFC 2449 §8.1.2: IN-USE when the credentials are right but the maildrop is locked.
  if (maildrop === "in-use") return err(withCode(ResponseCode.inUse, "maildrop is locked by another session"));
  if (ctx.closed) {
    // The connection went away while the maildrop was being opened.
    ctx.maildrop = maildrop;
    await releaseMaildrop(ctx);
    return { ...err("session is closed"), close: true };
  }
  ctx.maildrop = maildrop;
  ctx.state = "TRANSACTION";
  options.observer?.loggedIn?.(account);
  const { count, octets } = totals(ctx);
  return ok(`maildrop locked and ready, ${count} messages (${octets} octets)`);
}
