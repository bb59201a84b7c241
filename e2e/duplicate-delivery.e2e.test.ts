import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "@correo/testkit";
import { SmtpWire } from "../services/submission/test/smtp-wire.js";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * Issue 10 item 5, the RFC 1047 window: the client sends the final dot, the connection
 * drops before it reads the 250, and it sends the message again. The mailbox keeps one
 * copy; the second delivery's timeline says whose duplicate it is.
 */
const run = promisify(execFile);
let correo: Correo;

beforeAll(async () => {
  correo = await startCorreo("e2e-duplicates");
  await correo.cli(["domain", "add", "example.test"]);
  for (const who of ["dup", "other"]) await correo.cli(["account", "add", `${who}@example.test`, "--password-stdin"], "s3cret-pass\n");
});

afterAll(async () => {
  await correo?.stop();
});

function message(messageId: string, to: string, body: string): string {
  return [
    "From: Bob <bob@remote.test>",
    `To: ${to}`,
    "Subject: sent twice",
    "Date: Tue, 01 Dec 2026 23:00:00 +0000",
    `Message-ID: ${messageId}`,
    "",
    body,
    "",
  ].join("\r\n");
}

/** An SMTP client whose connection drops right after its final dot: it never reads the 250. */
async function sendAndDropBeforeReply(port: number, to: string, raw: string): Promise<void> {
  const wire = await SmtpWire.open(port);
  const lastLine = (reply: string) => reply.split("\r\n").at(-1);
  expect(lastLine(await wire.reply())).toMatch(/^220 /);
  for (const [command, code] of [["EHLO client.remote.test", "250"], ["MAIL FROM:<bob@remote.test>", "250"], [`RCPT TO:<${to}>`, "250"], ["DATA", "354"]] as const) {
    expect(lastLine(await wire.command(command))).toMatch(new RegExp(`^${code} `));
  }
  wire.socket.end(raw + ".\r\n");
  wire.socket.destroy();
}

/** Python's smtplib sends the message again, as a retrying client does. */
async function sendWithSmtplib(port: number, to: string, raw: string): Promise<void> {
  const script = [
    "import smtplib, sys",
    "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)",
    "s.ehlo('client.remote.test')",
    "s.sendmail('bob@remote.test', [sys.argv[2]], sys.stdin.buffer.read())",
    "s.quit()",
  ].join("\n");
  const child = run("python3", ["-c", script, String(port), to], { timeout: 30_000 });
  child.child.stdin!.end(raw);
  await child;
}

async function finalDeliveries(messageId: string, n: number) {
  return eventually(async () => {
    const { rows } = await correo.infra.pool.query<{ id: string; state: string; created_at: Date }>(
      `SELECT d.id, d.state, m.created_at FROM deliveries d JOIN messages m ON m.id = d.message_id
        WHERE m.header_message_id = $1 ORDER BY m.created_at`,
      [messageId],
    );
    return rows.length === n && rows.every((r) => r.state === "delivered") ? rows : undefined;
  }, 30_000, `${n} deliveries of ${messageId} delivered`);
}

async function timeline(deliveryId: string) {
  const { rows } = await correo.infra.pool.query<{ event: string; detail: string | null }>(
    "SELECT event, detail FROM delivery_events WHERE delivery_id = $1 ORDER BY id",
    [deliveryId],
  );
  return rows;
}

describe("a message sent again after a lost 250", () => {
  it("lands once in the mailbox; the second delivery is recorded as a duplicate of the first", async () => {
    const port = Number(correo.env.SMTP_MX_PORT);
    const raw = message("<resent-1@remote.test>", "dup@example.test", "The same body, twice.");
    await sendAndDropBeforeReply(port, "dup@example.test", raw);
    // The first copy was committed although its 250 was never read.
    await finalDeliveries("<resent-1@remote.test>", 1);
    await sendWithSmtplib(port, "dup@example.test", raw);
    const [first, second] = await finalDeliveries("<resent-1@remote.test>", 2);

    // Two accepted messages (their Received: fields differ, so do their blobs), one stored copy.
    const blobs = await correo.infra.pool.query("SELECT DISTINCT blob_id FROM messages WHERE header_message_id = $1", ["<resent-1@remote.test>"]);
    expect(blobs.rowCount).toBe(2);
    const box = await pop3(correo, "dup@example.test", "s3cret-pass", "list");
    expect(box.stat[0]).toBe(1);

    expect((await timeline(first!.id)).map((e) => e.event)).toEqual(["accepted", "routed", "delivered"]);
    expect((await timeline(first!.id)).at(-1)!.detail).toBe("stored in INBOX as UID 1");
    const events = await timeline(second!.id);
    expect(events.map((e) => e.event)).toEqual(["accepted", "routed", "delivered"]);
    expect(events.at(-1)!.detail).toMatch(
      new RegExp(`^duplicate of delivery ${first!.id} of the same message \\(same Message-ID and content\\) at \\S+, stored in INBOX as UID 1; not stored again$`),
    );
  });

  it("stores a message with the same Message-ID but another body", async () => {
    const port = Number(correo.env.SMTP_MX_PORT);
    await sendWithSmtplib(port, "other@example.test", message("<reused-id@remote.test>", "other@example.test", "First body."));
    await sendWithSmtplib(port, "other@example.test", message("<reused-id@remote.test>", "other@example.test", "Another body."));
    await finalDeliveries("<reused-id@remote.test>", 2);
    const box = await pop3(correo, "other@example.test", "s3cret-pass", "list");
    expect(box.stat[0]).toBe(2);
  });
});

describe("with MAILBOX_DUPLICATE_WINDOW=off", () => {
  let off: Correo;
  beforeAll(async () => {
    off = await startCorreo("e2e-duplicates-off", { MAILBOX_DUPLICATE_WINDOW: "off" });
    await off.cli(["domain", "add", "example.test"]);
    await off.cli(["account", "add", "dup@example.test", "--password-stdin"], "s3cret-pass\n");
  });
  afterAll(async () => {
    await off?.stop();
  });

  it("stores both copies of a message sent again after a lost 250", async () => {
    const port = Number(off.env.SMTP_MX_PORT);
    const raw = message("<resent-off@remote.test>", "dup@example.test", "The same body, twice.");
    await sendAndDropBeforeReply(port, "dup@example.test", raw);
    await sendWithSmtplib(port, "dup@example.test", raw);
    await eventually(async () => {
      const { rows } = await off.infra.pool.query(
        "SELECT count(*)::int AS n FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.header_message_id = $1 AND d.state = 'delivered'",
        ["<resent-off@remote.test>"],
      );
      return rows[0].n === 2;
    }, 30_000, "both delivered");
    const box = await pop3(off, "dup@example.test", "s3cret-pass", "list");
    expect(box.stat[0]).toBe(2);
  });
});
