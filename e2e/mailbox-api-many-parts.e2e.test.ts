import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "@correo/testkit";
import { startCorreo, type Correo } from "./harness.js";
import { smtpTransaction } from "./smtp-transaction.js";

/**
 * Issue 12, item 4: a message with 10 000 MIME parts (more than mailparser reads in one
 * message) arrives over SMTP, is delivered to a mailbox, and the HTTP mailbox API answers
 * for it for good: 200 with its header, the raw link and the parts it could read, marked
 * partial; never the 503 ("Max allowed child nodes exceeded") it answered for ever before.
 */
const ADDRESS = "mil@example.test";
const PASSWORD = "mil-partes-secret";
const PARTS = 10_000;
const basic = `Basic ${Buffer.from(`${ADDRESS}:${PASSWORD}`).toString("base64")}`;

/** Part i: text, except every tenth, a small named attachment holding `attachment <i>`. */
function manyParts(): string {
  const lines = [
    "From: Remitente <sender@remote.test>",
    `To: ${ADDRESS}`,
    "Subject: diez mil partes",
    "Date: Wed, 02 Dec 2026 03:00:00 +0000",
    "Message-ID: <many-parts@remote.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
  ];
  for (let i = 0; i < PARTS; i++) {
    lines.push("--b");
    if (i % 10 === 9) {
      lines.push(`Content-Type: application/octet-stream; name="f${i}.bin"`, `Content-Disposition: attachment; filename="f${i}.bin"`, "Content-Transfer-Encoding: base64", "");
      lines.push(Buffer.from(`attachment ${i}`).toString("base64"));
    } else {
      lines.push("Content-Type: text/plain; charset=utf-8", "", `part ${i}`);
    }
  }
  lines.push("--b--", "");
  return lines.join("\r\n");
}

let correo: Correo;
let api: string;
const raw = manyParts();

async function get(path: string) {
  const res = await fetch(api + path, { headers: { authorization: basic } });
  const type = res.headers.get("content-type") ?? "";
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, body, json: /json/.test(type) ? (JSON.parse(body.toString()) as any) : undefined };
}

beforeAll(async () => {
  correo = await startCorreo("e2e-many-parts");
  api = `http://127.0.0.1:${correo.ports.mailboxApi}`;
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", ADDRESS, "--password-stdin"], `${PASSWORD}\n`);
});

afterAll(async () => {
  await correo?.stop();
});

describe("a message with 10 000 MIME parts over the HTTP mailbox API", () => {
  it("is accepted over SMTP and delivered to the INBOX with its whole structure", async () => {
    const replies = await smtpTransaction(Number(correo.env.SMTP_MX_PORT), "sender@remote.test", [ADDRESS], raw + ".\r\n", "client.remote.test");
    expect(replies.at(-2)).toMatch(/^250 /); // the reply to the message; the last is QUIT's
    const page = await eventually(async () => {
      const r = await get("/v1/folders/INBOX/messages");
      return r.json?.messages?.length === 1 ? r.json : undefined;
    }, 60_000, "the message in the INBOX");
    expect(page.messages[0]).toMatchObject({ subject: "diez mil partes", has_attachments: true });
    // Delivery parsed it once into BODYSTRUCTURE (packages/mailstore mime-structure): every part is there.
    const { rows } = await correo.infra.pool.query("SELECT jsonb_array_length(body_structure->'parts') AS n FROM mailbox_messages");
    expect(rows).toEqual([{ n: PARTS }]);
  });

  it("answers 200 with the header, the raw link and the parts it could read, marked partial", async () => {
    const uid = (await get("/v1/folders/INBOX/messages")).json.messages[0].uid;
    const view = await get(`/v1/folders/INBOX/messages/${uid}`);
    expect(view.status).toBe(200);
    expect(view.type).toMatch(/^application\/json/);
    const m = view.json;
    expect(m.subject).toBe("diez mil partes");
    expect(m.from).toEqual([{ name: "Remitente", address: "sender@remote.test" }]);
    expect(m.headers).toContainEqual({ name: "Message-ID", value: "<many-parts@remote.test>" });
    expect(m.partial).toMatchObject({ parts_total: PARTS, parts_read: 1000 });
    expect(m.partial.reason).toMatch(/could not be parsed whole/);
    expect(m.text.split("\n").slice(0, 3)).toEqual(["part 0", "part 1", "part 2"]);
    expect(m.attachments).toHaveLength(100);
    expect(m.attachments[0]).toMatchObject({ index: 0, filename: "f9.bin", content_type: "application/octet-stream" });

    // The same list serves the downloads, and the raw link has it all, byte for byte.
    const file = await get(m.attachments[99].url);
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe("attachment 999");
    const whole = await get(m.raw_url);
    expect(whole.status).toBe(200);
    const { rows } = await correo.infra.pool.query("SELECT b.content FROM mailbox_messages m JOIN blobs b ON b.id = m.blob_id");
    expect(whole.body.equals(rows[0].content)).toBe(true);
    // What the MX adds (Received:, …) comes first; the message follows as sent.
    expect(whole.body.toString("latin1").endsWith(raw)).toBe(true);

    // The same answer again: a permanent one, not a retry-later.
    expect((await get(`/v1/folders/INBOX/messages/${uid}`)).status).toBe(200);
  });
});
