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
  }));
}
