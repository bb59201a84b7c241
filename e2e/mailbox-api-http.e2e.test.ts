import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually } from "@correo/testkit";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * The HTTP mailbox API of a whole Correo started as `pnpm start` starts it, driven
 * with fetch as a web or app client would: mail sent through the submission API is
 * read, flagged, moved and deleted over HTTP, and POP3 sees the same mailbox.
 */
const ADDRESS = "lia@example.test";
const PASSWORD = "lia-secret-pass";
const pdf = readFileSync(join(__dirname, "fixtures", "informe.pdf"));

let correo: Correo;
let api: string;
const basic = `Basic ${Buffer.from(`${ADDRESS}:${PASSWORD}`).toString("base64")}`;
let bearer: string;

beforeAll(async () => {
  correo = await startCorreo("e2e-mailbox-api");
  api = `http://127.0.0.1:${correo.ports.mailboxApi}`;
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", ADDRESS, "--password-stdin"], `${PASSWORD}\n`);
  const key = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  const send = (body: unknown) =>
    fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  expect((await send({ from: ADDRESS, to: ADDRESS, subject: "Hola", text: "primera\n" })).status).toBe(202);
  // The second only once the first is in: the newest-first order below is the delivery order.
  const inbox = async () => {
    const r = await fetch(`${api}/v1/folders`, { headers: { authorization: basic } });
    return ((await r.json()) as any).folders.find((f: any) => f.name === "INBOX").messages as number;
  };
  await eventually(async () => (await inbox()) === 1, 30_000, "the first message delivered");
  expect(
    (
      await send({
        from: "Lía Gómez <lia@example.test>",
        to: ADDRESS,
        subject: "Informe — versión final",
        text: "Adjunto el informe.\n",
        html: "<p>Adjunto el <b>informe</b>.</p>",
        attachments: [{ filename: "informe.pdf", content: pdf.toString("base64"), content_type: "application/pdf" }],
      })
    ).status,
  ).toBe(202);
});

afterAll(async () => {
  await correo?.stop();
});

async function call(method: string, path: string, auth: string, body?: unknown) {
  const res = await fetch(api + path, {
    method,
    headers: { authorization: auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const type = res.headers.get("content-type") ?? "";
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, raw, body: /json/.test(type) && raw.length ? (JSON.parse(raw.toString()) as any) : undefined };
}

describe("HTTP mailbox API, end to end", () => {
  it("issues a token with the password and lists the folders with counts once both messages are delivered", async () => {
    const issued = await call("POST", "/v1/tokens", basic, { description: "e2e" });
    expect(issued.status).toBe(201);
    bearer = `Bearer ${issued.body.token}`;
    const inbox = await eventually(async () => {
      const r = await call("GET", "/v1/folders", bearer);
      const box = r.body.folders.find((f: any) => f.name === "INBOX");
      return box.messages === 2 ? box : undefined;
    }, 30_000, "two messages in INBOX");
    expect(inbox).toMatchObject({ unseen: 2, special_use: null });
  });

  it("pages the INBOX newest first, then reads the newest parsed, its attachment and its raw form", async () => {
    const page1 = await call("GET", "/v1/folders/INBOX/messages?limit=1", bearer);
    expect(page1.body.messages.map((m: any) => m.subject)).toEqual(["Informe — versión final"]);
    expect(page1.body.messages[0].has_attachments).toBe(true);
    const page2 = await call("GET", `/v1/folders/INBOX/messages?limit=1&cursor=${page1.body.next_cursor}`, bearer);
    expect(page2.body.messages.map((m: any) => m.subject)).toEqual(["Hola"]);
    expect(page2.body.next_cursor).toBeNull();

    const uid = page1.body.messages[0].uid;
    const view = await call("GET", `/v1/folders/INBOX/messages/${uid}`, bearer);
    expect(view.body.from).toEqual([{ name: "Lía Gómez", address: ADDRESS }]);
    expect(view.body.text).toBe("Adjunto el informe.\n");
    expect(view.body.html).toContain("<b>informe</b>");
    expect(view.body.attachments).toEqual([expect.objectContaining({ filename: "informe.pdf", content_type: "application/pdf", size: pdf.length })]);
    const file = await call("GET", view.body.attachments[0].url, bearer);
    expect(file.type).toBe("application/pdf");
    expect(file.raw.equals(pdf)).toBe(true);

    const raw = await call("GET", view.body.raw_url, bearer);
    expect(raw.type).toBe("message/rfc822");
    const { rows } = await correo.infra.pool.query(
      "SELECT b.content FROM mailbox_messages m JOIN blobs b ON b.id = m.blob_id JOIN mailboxes x ON x.id = m.mailbox_id WHERE x.name = 'INBOX' AND m.uid = $1",
      [uid],
    );
    expect(raw.raw.equals(rows[0].content)).toBe(true);
    expect((await simpleParser(raw.raw)).subject).toBe("Informe — versión final");
  });

  it("flags, moves and deletes; POP3 sees the INBOX change", async () => {
    const list = (await call("GET", "/v1/folders/INBOX/messages", bearer)).body.messages;
    const [newest, oldest] = list;
    const flagged = await call("PATCH", `/v1/folders/INBOX/messages/${oldest.uid}/flags`, bearer, { add: ["\\Seen", "\\Flagged"] });
    expect(flagged.body.flags.sort()).toEqual(["\\Flagged", "\\Seen"]);
    expect((await call("GET", "/v1/folders", bearer)).body.folders.find((f: any) => f.name === "INBOX").unseen).toBe(1);

    const moved = await call("POST", `/v1/folders/INBOX/messages/${newest.uid}/move`, bearer, { to: "Drafts" });
    expect(moved.body.folder).toBe("Drafts");
    const overPop3 = await pop3(correo, ADDRESS, PASSWORD, "list");
    expect(overPop3.stat[0]).toBe(1);

    const deleted = await call("DELETE", `/v1/folders/INBOX/messages/${oldest.uid}`, bearer);
    expect(deleted.body).toMatchObject({ result: "moved-to-trash", folder: "Trash" });
    const trash = await call("GET", "/v1/folders/Trash/messages", bearer);
    expect(trash.body.messages).toEqual([expect.objectContaining({ subject: "Hola", flags: expect.arrayContaining(["\\Seen", "\\Flagged"]) })]);
    expect((await pop3(correo, ADDRESS, PASSWORD, "list")).stat).toEqual([0, 0]);
  });

  it("documents itself at /openapi.json and refuses a revoked token", async () => {
    const doc = await fetch(`${api}/openapi.json`).then((r) => r.json() as Promise<any>);
    expect(doc.info.title).toBe("Correo mailbox API");
    const tokens = await call("GET", "/v1/tokens", bearer);
    expect((await call("DELETE", `/v1/tokens/${tokens.body.tokens[0].id}`, basic)).status).toBe(204);
    const refused = await call("GET", "/v1/folders", bearer);
    expect(refused.status).toBe(401);
    expect(refused.type).toMatch(/^application\/problem\+json/);
  });
});
