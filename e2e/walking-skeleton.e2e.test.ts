import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually } from "@correo/testkit";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * The walking skeleton, real all the way: five processes started as `pnpm start`
 * starts them; a message POSTed to the HTTP API with an API key; read back over POP3
 * by Python's poplib, headers, body and attachment intact.
 */
let correo: Correo;
let token: string;
const pdf = readFileSync(join(__dirname, "fixtures", "informe.pdf"));

beforeAll(async () => {
  correo = await startCorreo("e2e-skeleton");
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", "ana@example.test", "--password-stdin"], "s3cret-pass\n");
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
});

afterAll(async () => {
  await correo?.stop();
});

async function send(body: unknown, key = token) {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

describe("walking skeleton", () => {
  it("accepts a message with an attachment over HTTP and serves it intact over POP3", async () => {
    const sent = await send({
      from: "Ana Pérez <ana@example.test>",
      to: ["ana@example.test"],
      subject: "Informe trimestral — versión final",
      text: "Hola Ana,\r\n\r\nadjunto el informe.\r\n.\r\nUna línea que empieza con punto, arriba.\r\n",
      html: "<p>Hola Ana,</p><p>adjunto el informe.</p>",
      headers: { "X-Correo-Test": "walking-skeleton" },
      attachments: [{ filename: "informe.pdf", content: pdf.toString("base64"), content_type: "application/pdf" }],
    });
    expect(sent.status).toBe(202);
    expect(sent.body.recipients).toEqual([{ address: "ana@example.test", delivery_id: expect.any(String), status: "queued" }]);

    const status = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages/${sent.body.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const doc = (await res.json()) as any;
      return doc.recipients[0].status === "delivered" ? doc : undefined;
    }, 30_000, "delivered");
    expect(status.recipients[0].events.map((e: any) => e.event)).toEqual(["accepted", "routed", "delivered"]);

    const box = await pop3(correo, "ana@example.test", "s3cret-pass", "retr", 1);
    expect(box.greeting).toMatch(/^\+OK/);
    expect(box.stat[0]).toBe(1);
    expect(box.uidl).toHaveLength(1);
    const raw = Buffer.from(box.message, "base64");
    const mail = await simpleParser(raw);
    expect(mail.messageId).toBe(sent.body.message_id);
    expect(mail.subject).toBe("Informe trimestral — versión final");
    expect(mail.from?.value).toEqual([{ address: "ana@example.test", name: "Ana Pérez" }]);
    expect(mail.headers.get("x-correo-test")).toBe("walking-skeleton");
    expect(mail.text).toBe("Hola Ana,\n\nadjunto el informe.\n.\nUna línea que empieza con punto, arriba.\n");
    expect(mail.html).toContain("<p>adjunto el informe.</p>");
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.filename).toBe("informe.pdf");
    expect(mail.attachments[0]!.contentType).toBe("application/pdf");
    expect(mail.attachments[0]!.content.equals(pdf)).toBe(true);
    // The octets served are the octets stored, byte for byte (POP3 dot-stuffing undone by the client).
    const { rows } = await correo.infra.pool.query("SELECT b.content FROM blobs b JOIN messages m ON m.blob_id = b.id WHERE m.id = $1", [sent.body.id]);
    expect(raw.equals(rows[0].content)).toBe(true);
  });

  it("removes a message marked with DELE when the session QUITs", async () => {
    const before = await pop3(correo, "ana@example.test", "s3cret-pass", "dele", 1);
    expect(before.dele).toMatch(/^\+OK/);
    const after = await pop3(correo, "ana@example.test", "s3cret-pass", "list");
    expect(after.stat).toEqual([0, 0]);
  });

  it("answers bad input precisely: 401 without a key, 403 for a foreign sender, 400 naming the field", async () => {
    expect((await send({ from: "ana@example.test", to: "ana@example.test", text: "x" }, "nope")).status).toBe(401);
    const forbidden = await send({ from: "eve@elsewhere.test", to: "ana@example.test", text: "x" });
    expect(forbidden.status).toBe(403);
    expect(forbidden.type).toMatch(/^application\/problem\+json/);
    const bad = await send({ from: "ana@example.test", to: "not an address", text: "x" });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: "to", message: "'not an address' is not one e-mail address: it has no @" }]);
    const wrongPassword = await pop3(correo, "ana@example.test", "wrong-pass", "list");
    expect(wrongPassword.error).toMatch(/^-ERR/);
  });

  it("stops all five services on Ctrl-C (SIGINT), leaving no port open", async () => {
    correo.start.child.kill("SIGINT");
    expect(await correo.start.exited).toBe(0);
    expect(correo.start.output()).toContain("all services stopped");
    for (const port of [correo.ports.http, correo.ports.pop3, ...Object.values(correo.ports.ops)]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});
