import MailComposer from "nodemailer/lib/mail-composer";
import type Mail from "nodemailer/lib/mailer";

/** An address for a header: a bare address, or a display name and the address as given. */
export type ComposeAddress = string | { name: string; address: string };

export interface ComposeInput {
  /** The message's id (the spool's); its Message-ID is <id@messageIdDomain>. */
  id: string;
  from: ComposeAddress;
  to: ComposeAddress[];
  cc: ComposeAddress[];
  bcc: ComposeAddress[];
  replyTo?: ComposeAddress;
  subject?: string;
  text?: string;
  html?: string;
  headers: Record<string, string>;
  attachments: { filename: string; content: Buffer; contentType?: string; cid?: string }[];
  messageIdDomain: string;
  date: Date;
}

export interface Composed {
  raw: Buffer;
  headerMessageId: string;
}

/**
 * Builds the RFC 5322 message with nodemailer's MailComposer. Bcc recipients travel
 * in the envelope only; MailComposer leaves the Bcc header out of the output.
 */
export async function composeMessage(input: ComposeInput): Promise<Composed> {
  const headerMessageId = `<${input.id}@${input.messageIdDomain}>`;
  const mail: Mail.Options = {
    from: input.from,
    to: input.to,
    cc: input.cc,
    bcc: input.bcc,
    subject: input.subject,
    text: input.text,
    html: input.html,
    headers: input.headers,
    attachments: input.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
      cid: a.cid,
    })),
    messageId: headerMessageId,
    date: input.date,
    ...(input.replyTo ? { replyTo: input.replyTo } : {}),
  };
  const node = new MailComposer(mail).compile();
  const built = await new Promise<Buffer>((resolve, reject) => node.build((err, buf) => (err ? reject(err) : resolve(buf))));
  // MailComposer ends lines with bare LF; messages are stored and sent in canonical CRLF form (RFC 5322 §2.1).
  const raw = Buffer.from(built.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
  return { raw, headerMessageId };
}
