import { expect } from "vitest";
import { eventually } from "@correo/testkit";
import { SmtpWire } from "../services/submission/test/smtp-wire.js";
import type { Correo } from "./harness.js";

/** What the MX answered at the end of DATA: the spool's id, or the refusal. */
export type Sent = { ok: true; id: string } | { ok: false; code: number; response: string };

/** One MX transaction from `ip` (a loopback address) with HELO `helo`, over a raw socket. */
export async function sendToMx(correo: Correo, raw: Buffer, o: { from: string; to?: string[]; ip?: string; helo?: string }): Promise<Sent> {
  const wire = await SmtpWire.open(Number(correo.env.SMTP_MX_PORT), false, o.ip ?? "127.0.0.1");
  try {
    await wire.reply();
    await wire.command(`EHLO ${o.helo ?? "mail.sender.test"}`);
    await wire.command(`MAIL FROM:<${o.from}>`);
    for (const r of o.to ?? ["bob@hosted.test"]) expect(await wire.command(`RCPT TO:<${r}>`)).toMatch(/^250/);
    expect(await wire.command("DATA")).toMatch(/^354/);
    // RFC 5321 §4.5.2: leading dots doubled; then the end-of-data line.
    wire.write(Buffer.concat([Buffer.from(raw.toString("latin1").replace(/^\./gm, ".."), "latin1"), Buffer.from(raw.subarray(-2).toString() === "\r\n" ? ".\r\n" : "\r\n.\r\n")]));
    const reply = await wire.reply(30_000);
    const id = /queued as ([0-9a-f-]{36})/.exec(reply)?.[1];
    return id ? { ok: true, id } : { ok: false, code: Number(reply.slice(0, 3)), response: reply };
  } finally {
    wire.close();
  }
}

/** The stored message as the spool has it: raw source, the Junk flag, the `accepted` event's detail. */
export async function storedMessage(correo: Correo, id: string): Promise<{ raw: string; quarantine: boolean; detail: string }> {
  const { rows } = await correo.infra.pool.query<{ raw: string; quarantine: boolean; detail: string }>(
    `SELECT convert_from(b.content, 'UTF8') AS raw, m.quarantine,
            (SELECT e.detail FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id WHERE d.message_id = m.id AND e.event = 'accepted' LIMIT 1) AS detail
       FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.id = $1`,
    [id],
  );
  return rows[0]!;
}

/** The folder the message landed in, once the mailbox service has stored it. */
export async function folderOf(correo: Correo, id: string, account: string): Promise<{ name: string; special_use: string | null }> {
  return eventually(
    async () => {
      const { rows } = await correo.infra.pool.query<{ name: string; special_use: string | null }>(
        `SELECT x.name, x.special_use FROM mailbox_messages mm JOIN mailboxes x ON x.id = mm.mailbox_id
           JOIN accounts a ON a.id = x.account_id JOIN deliveries d ON d.id = mm.delivery_id
          WHERE d.message_id = $1 AND a.address = $2`,
        [id, account],
      );
      return rows[0];
    },
    30_000,
    `message ${id} in a mailbox of ${account}`,
  ) as Promise<{ name: string; special_use: string | null }>;
}
