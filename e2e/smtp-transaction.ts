import { SmtpWire } from "../services/submission/test/smtp-wire.js";

/**
 * One SMTP transaction over a raw socket (no client library between the test and the
 * wire): greeting, EHLO, MAIL, one RCPT per recipient, DATA, then `data` written exactly
 * as given (its final "." line included), then QUIT. Every reply, whole, in that order.
 */
export async function smtpTransaction(port: number, from: string, rcpts: string[], data: string | Buffer, helo = "mta.remote.test"): Promise<string[]> {
  const wire = await SmtpWire.open(port);
  const replies = [await wire.reply(), await wire.command(`EHLO ${helo}`), await wire.command(`MAIL FROM:<${from}>`)];
  for (const r of rcpts) replies.push(await wire.command(`RCPT TO:<${r}>`));
  replies.push(await wire.command("DATA"));
  wire.write(data);
  // A large message may take the server a while to spool.
  replies.push(await wire.reply(60_000));
  replies.push(await wire.command("QUIT"));
  wire.close();
  return replies;
}
