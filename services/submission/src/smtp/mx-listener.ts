import { baseOptions, startSmtpListener, type SmtpListener, type SmtpListenerOptions } from "./listener.js";

/**
 * The MX listener (port 25): mail from other servers for hosted domains. No AUTH, so
 * no relaying (RFC 5321 §3.6.2, DESIGN "No open relay"); STARTTLS is offered
 * (RFC 3207) but not required, as between MTAs it cannot be.
 */
export function startMxListener(opts: SmtpListenerOptions): Promise<SmtpListener> {
  return startSmtpListener("mx", opts, (tx) => ({
    ...baseOptions("mx", opts, tx),
    disabledCommands: ["AUTH"],
    authOptional: true,
    // smtp-server (patches/smtp-server@3.21.6.patch) waits 100 ms before every greeting to catch
    // early talkers, which caps one-connection-per-message senders; the MX greets at once unless
    // SMTP_MX_GREET_PAUSE asks for the pause, as Postfix does only with postscreen. The submission
    // listeners keep smtp-server's 100 ms.
    earlyTalkerDelay: opts.limits.mxGreetPauseMs,
  }));
}
