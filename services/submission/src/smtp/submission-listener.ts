import { baseOptions, startSmtpListener, type SmtpListener, type SmtpListenerOptions } from "./listener.js";

/**
 * The message submission listeners of RFC 6409: port 587 with STARTTLS required
 * before AUTH (RFC 3207 §4, RFC 4954 §4), and port 465 with implicit TLS (RFC 8314
 * §3.3). AUTH PLAIN or LOGIN is required before MAIL (530 5.7.0 otherwise).
 */
export function startSubmissionListener(opts: SmtpListenerOptions, implicitTls: boolean): Promise<SmtpListener> {
  const kind = implicitTls ? "submissions" : "submission";
  return startSmtpListener(kind, opts, (tx) => ({
    ...baseOptions(kind, opts, tx),
    secure: implicitTls,
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: false,
    authOptional: false,
    authRequiredMessage: "5.7.0 Authentication required",
    maxAllowedUnauthenticatedCommands: opts.limits.maxUnauthenticatedCommands,
    onAuth: (auth, session, done) => void tx.onAuth(auth, session, done),
  }));
}
