import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { buildMailboxApi } from "../src/http/app.js";

const fixtures = join(__dirname, "fixtures");
const fixture = (name: string) => Buffer.from(readFileSync(join(fixtures, name), "latin1").replace(/\r?\n/g, "\r\n"), "latin1");
const PLAIN = fixture("plain.eml");
const MULTIPART = fixture("multipart.eml");
const PASSWORD = "correct horse battery";

let infra: IsolatedInfra;
let store: MailStore;
let app: FastifyInstance;
let base: string;

const basic = (user: string, password = PASSWORD) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

async function call(method: string, path: string, auth: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const type = res.headers.get("content-type") ?? "";
  const raw = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type, headers: res.headers, raw, body: /json/.test(type) && raw.length ? (JSON.parse(raw.toString()) as any) : undefined };
}

/** A new account with `messages` appended to its INBOX in order (oldest first). */
async function account(localPart: string, messages: Buffer[]): Promise<{ id: number; address: string; auth: string; uids: number[] }> {
  const a = await addAccount(infra.pool, `${localPart}@example.test`, PASSWORD);
  const uids: number[] = [];
  for (const m of messages) {
    const r = await store.append(a.id, "INBOX", m);
    if ("refused" in r) throw new Error(r.text);
    uids.push(r.uid);
  }
  return { id: a.id, address: a.address, auth: basic(a.address), uids };
}

const numbered = (n: number) => Buffer.from(`From: x@example.net\r\nSubject: number ${n}\r\nMessage-ID: <n${n}@example.net>\r\n\r\nbody ${n}\r\n`);

beforeAll(async () => {
  infra = await isolatedInfra("mailbox-api");
  await addDomain(infra.pool, "example.test");
  store = new MailStore({ pool: infra.pool });
  app = await buildMailboxApi({ logger: createLogger("retrieval-test", "silent"), store });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await app?.close();
  await infra?.cleanup();
});

describe("HTTP mailbox API: authentication", () => {
  it("answers 401 problem+json with WWW-Authenticate without credentials or with wrong ones", async () => {
    const acc = await account("auth", []);
    for (const auth of [undefined, basic(acc.address, "wrong password"), basic("nobody@example.test"), "Bearer cmt_0000000000000000_" + "x".repeat(43), "Digest abc"]) {
      const r = await call("GET", "/v1/folders", auth);
      expect(r.status).toBe(401);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body.errors[0].field).toBe("header.authorization");
      expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="Correo mailbox"/);
    }
  });

  it("issues a token with the password, serves requests with it, and stops at once when it is revoked", async () => {
    const acc = await account("tokens", [PLAIN]);
    const issued = await call("POST", "/v1/tokens", acc.auth, { description: "phone" });
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^cmt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const bearer = `Bearer ${issued.body.token}`;
    expect((await call("GET", "/v1/folders", bearer)).status).toBe(200);
    // Stored hashed: the secret half appears nowhere in the table.
    const { rows } = await infra.pool.query("SELECT * FROM mailbox_tokens WHERE token_id = $1", [issued.body.id]);
    const secret = issued.body.token.slice("cmt_".length + 16 + 1);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(rows)).not.toContain(secret);
    // A token cannot issue another token.
    const again = await call("POST", "/v1/tokens", bearer, {});
    expect(again.status).toBe(403);
    const list = await call("GET", "/v1/tokens", bearer);
    expect(list.body.tokens).toEqual([expect.objectContaining({ id: issued.body.id, description: "phone", expires_at: null })]);
    expect((await call("DELETE", `/v1/tokens/${issued.body.id}`, bearer)).status).toBe(204);
    expect((await call("GET", "/v1/folders", bearer)).status).toBe(401);
    const gone = await call("DELETE", `/v1/tokens/${issued.body.id}`, acc.auth);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].field).toBe("params.id");
    // Another account's token cannot read this account's mail.
    const other = await account("tokens-other", []);
    const otherToken = (await call("POST", "/v1/tokens", other.auth, {})).body.token;
    expect((await call("GET", `/v1/folders/INBOX/messages/${acc.uids[0]}`, `Bearer ${otherToken}`)).status).toBe(404);
  });

  it("refuses an expired token", async () => {
    const acc = await account("expiry", []);
    // No body at all is fine too (curl -X POST -u …).
    const bare = await call("POST", "/v1/tokens", acc.auth);
    expect(bare.status).toBe(201);
    expect(bare.body.expires_at).toBeNull();
    const tooShort = await call("POST", "/v1/tokens", acc.auth, { expires_in: 5 });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.errors[0].field).toBe("body.expires_in");
    const issued = await call("POST", "/v1/tokens", acc.auth, { expires_in: 60 });
    expect(issued.body.expires_at).not.toBeNull();
    await infra.pool.query("UPDATE mailbox_tokens SET expires_at = now() - interval '1 second' WHERE token_id = $1", [issued.body.id]);
    expect((await call("GET", "/v1/folders", `Bearer ${issued.body.token}`)).status).toBe(401);
  });
});

describe("HTTP mailbox API: folders and messages", () => {
  it("lists the folders with their counts", async () => {
    const acc = await account("folders", [PLAIN, MULTIPART]);
    await store.storeFlags((await store.findMailbox(acc.id, "INBOX"))!.id, [acc.uids[0]!], "add", ["\\Seen"]);
    const r = await call("GET", "/v1/folders", acc.auth);
    expect(r.status).toBe(200);
    expect(r.body.folders.map((f: any) => f.name).sort()).toEqual(["Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    const inbox = r.body.folders.find((f: any) => f.name === "INBOX");
    expect(inbox).toMatchObject({ messages: 2, unseen: 1, size: PLAIN.length + MULTIPART.length, special_use: null });
    expect(r.body.folders.find((f: any) => f.name === "Trash").special_use).toBe("\\Trash");
  });

  it("pages through a folder newest first with a cursor, to the end", async () => {
    const acc = await account("paging", Array.from({ length: 7 }, (_, i) => numbered(i + 1)));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await call("GET", `/v1/folders/INBOX/messages?limit=3${cursor ? `&cursor=${cursor}` : ""}`, acc.auth);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(7);
      seen.push(...r.body.messages.map((m: any) => m.subject));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1].map((n) => `number ${n}`));
  });

  it("refuses bad paging parameters naming the field", async () => {
    const acc = await account("badpage", [PLAIN]);
    const tooMany = await call("GET", "/v1/folders/INBOX/messages?limit=5000", acc.auth);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe("querystring.limit");
    const bogus = await call("GET", "/v1/folders/INBOX/messages?cursor=bm90LWEtY3Vyc29y", acc.auth);
    expect(bogus.status).toBe(400);
    expect(bogus.body.errors[0].field).toBe("querystring.cursor");
    const unknown = await call("GET", "/v1/folders/INBOX/messages?sort=asc", acc.auth);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toEqual({ field: "querystring.sort", message: "is not a known field" });
    const noFolder = await call("GET", "/v1/folders/Nope/messages", acc.auth);
    expect(noFolder.status).toBe(404);
    expect(noFolder.body.errors[0].field).toBe("params.folder");
  });

  it("shows one message parsed: headers, text, attachments with a download that returns the decoded bytes", async () => {
    const acc = await account("parsed", [MULTIPART]);
    const uid = acc.uids[0]!;
    const r = await call("GET", `/v1/folders/INBOX/messages/${uid}`, acc.auth);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      uid,
      folder: "INBOX",
      subject: "Informe trimestral (con adjunto)",
      from: [{ name: "Dave", address: "dave@example.net" }],
      to: [{ name: null, address: "alice@example.test" }],
      message_id: "<informe-q4@example.net>",
      has_attachments: true,
      html: null,
      raw_url: `/v1/folders/INBOX/messages/${uid}/raw`,
    });
    expect(r.body.text).toContain("adjunto el informe del cuarto trimestre.");
    expect(r.body.headers).toContainEqual({ name: "Subject", value: "Informe trimestral (con adjunto)" });
    expect(r.body.attachments).toHaveLength(1);
    const a = r.body.attachments[0];
    expect(a).toMatchObject({ index: 0, filename: "informe-q4.bin", content_type: "application/octet-stream" });
    const download = await call("GET", a.url, acc.auth);
    expect(download.status).toBe(200);
    expect(download.type).toBe("application/octet-stream");
    expect(download.headers.get("content-disposition")).toContain('filename="informe-q4.bin"');
    // The base64 body of the fixture's second part, decoded independently of the server.
    const text = MULTIPART.toString("latin1");
    const b64 = text.slice(text.indexOf("MIME-Version: 1.0\r\n\r\n", text.indexOf("informe-q4.bin")) + 21, text.lastIndexOf("--=_correo_fixture_boundary_1--"));
    expect(download.raw.equals(Buffer.from(b64.replace(/\s+/g, ""), "base64"))).toBe(true);
    expect(download.raw.length).toBe(a.size);
    const missing = await call("GET", `/v1/folders/INBOX/messages/${uid}/attachments/1`, acc.auth);
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].field).toBe("params.index");
  });

  it("gives the raw message byte for byte, at /raw and with Accept: message/rfc822", async () => {
    const acc = await account("raw", [PLAIN]);
    const path = `/v1/folders/inbox/messages/${acc.uids[0]}`;
    const raw = await call("GET", `${path}/raw`, acc.auth);
    expect(raw.status).toBe(200);
    expect(raw.type).toBe("message/rfc822");
    expect(raw.raw.equals(PLAIN)).toBe(true);
    const negotiated = await call("GET", path, acc.auth, undefined, { accept: "message/rfc822" });
    expect(negotiated.type).toBe("message/rfc822");
    expect(negotiated.raw.equals(PLAIN)).toBe(true);
    const bad = await call("GET", "/v1/folders/INBOX/messages/0", acc.auth);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe("params.uid");
    const none = await call("GET", "/v1/folders/INBOX/messages/999", acc.auth);
    expect(none.status).toBe(404);
    expect(none.body.errors[0].field).toBe("params.uid");
  });

  it("sets and clears \\Seen, \\Flagged and keywords; each change moves HIGHESTMODSEQ on", async () => {
    const acc = await account("flags", [PLAIN]);
    const uid = acc.uids[0]!;
    const before = (await store.findMailbox(acc.id, "INBOX"))!;
    const set = await call("PATCH", `/v1/folders/INBOX/messages/${uid}/flags`, acc.auth, { add: ["\\Seen", "\\Flagged", "$Important"] });
    expect(set.status).toBe(200);
    expect(set.body.flags.sort()).toEqual(["$Important", "\\Flagged", "\\Seen"]);
    const cleared = await call("PATCH", `/v1/folders/INBOX/messages/${uid}/flags`, acc.auth, { remove: ["\\Flagged"] });
    expect(cleared.body.flags.sort()).toEqual(["$Important", "\\Seen"]);
    const after = (await store.findMailbox(acc.id, "INBOX"))!;
    expect(after.highestModseq).toBe(before.highestModseq + 2);
    const list = await call("GET", "/v1/folders/INBOX/messages", acc.auth);
    expect(list.body.messages[0].flags.sort()).toEqual(["$Important", "\\Seen"]);

    const recent = await call("PATCH", `/v1/folders/INBOX/messages/${uid}/flags`, acc.auth, { add: ["\\Recent"] });
    expect(recent.status).toBe(400);
    expect(recent.body.errors[0]).toEqual({ field: "body.add.0", message: expect.stringMatching(/^must be \\Seen, /) });
    const empty = await call("PATCH", `/v1/folders/INBOX/messages/${uid}/flags`, acc.auth, {});
    expect(empty.status).toBe(400);
    const extra = await call("PATCH", `/v1/folders/INBOX/messages/${uid}/flags`, acc.auth, { add: ["\\Seen"], color: "red" });
    expect(extra.body.errors).toContainEqual({ field: "body.color", message: "is not a known field" });
  });

  it("moves a message to another folder, where it gets a new UID", async () => {
    const acc = await account("move", [PLAIN, MULTIPART]);
    const r = await call("POST", `/v1/folders/INBOX/messages/${acc.uids[1]}/move`, acc.auth, { to: "Sent" });
    expect(r.status).toBe(200);
    expect(r.body.folder).toBe("Sent");
    const sent = await call("GET", "/v1/folders/Sent/messages", acc.auth);
    expect(sent.body.messages.map((m: any) => [m.uid, m.subject])).toEqual([[r.body.uid, "Informe trimestral (con adjunto)"]]);
    const inbox = await call("GET", "/v1/folders/INBOX/messages", acc.auth);
    expect(inbox.body.total).toBe(1);
    const nowhere = await call("POST", `/v1/folders/INBOX/messages/${acc.uids[0]}/move`, acc.auth, { to: "Archive" });
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.errors[0].field).toBe("body.to");
    const gone = await call("POST", `/v1/folders/INBOX/messages/${acc.uids[1]}/move`, acc.auth, { to: "Junk" });
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].field).toBe("params.uid");
  });

  it("deletes to Trash, then for good from Trash; ?expunge=true removes at once and is recorded as an expunge", async () => {
    const acc = await account("delete", [PLAIN, MULTIPART]);
    const toTrash = await call("DELETE", `/v1/folders/INBOX/messages/${acc.uids[0]}`, acc.auth);
    expect(toTrash.status).toBe(200);
    expect(toTrash.body).toEqual({ result: "moved-to-trash", folder: "Trash", uid: expect.any(Number) });
    const fromTrash = await call("DELETE", `/v1/folders/Trash/messages/${toTrash.body.uid}`, acc.auth);
    expect(fromTrash.body).toEqual({ result: "expunged" });
    const now = await call("DELETE", `/v1/folders/INBOX/messages/${acc.uids[1]}?expunge=true`, acc.auth);
    expect(now.body).toEqual({ result: "expunged" });
    const folders = (await call("GET", "/v1/folders", acc.auth)).body.folders;
    expect(folders.find((f: any) => f.name === "INBOX").messages).toBe(0);
    expect(folders.find((f: any) => f.name === "Trash").messages).toBe(0);
    const inbox = (await store.findMailbox(acc.id, "INBOX"))!;
    expect((await store.changesSince(inbox.id, 0)).expunged).toEqual(acc.uids);
    expect((await call("DELETE", `/v1/folders/INBOX/messages/${acc.uids[1]}`, acc.auth)).status).toBe(404);
  });

  it("serves folders with '/' in their name URL-encoded", async () => {
    const acc = await account("nested", [PLAIN]);
    const created = await store.createMailbox(acc.id, "Projects/2026");
    expect("refused" in created).toBe(false);
    const moved = await call("POST", `/v1/folders/INBOX/messages/${acc.uids[0]}/move`, acc.auth, { to: "Projects/2026" });
    expect(moved.status).toBe(200);
    const r = await call("GET", `/v1/folders/${encodeURIComponent("Projects/2026")}/messages`, acc.auth);
    expect(r.status).toBe(200);
    expect(r.body.folder).toBe("Projects/2026");
    expect(r.body.messages).toHaveLength(1);
  });
});

describe("HTTP mailbox API: OpenAPI", () => {
  it("documents every route with its schemas and both security schemes at /openapi.json", async () => {
    const r = await call("GET", "/openapi.json", undefined);
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    expect(Object.keys(r.body.paths).sort()).toEqual([
      "/v1/folders",
      "/v1/folders/{folder}/messages",
      "/v1/folders/{folder}/messages/{uid}",
      "/v1/folders/{folder}/messages/{uid}/attachments/{index}",
      "/v1/folders/{folder}/messages/{uid}/flags",
      "/v1/folders/{folder}/messages/{uid}/move",
      "/v1/folders/{folder}/messages/{uid}/raw",
      "/v1/tokens",
      "/v1/tokens/{id}",
    ]);
    expect(Object.keys(r.body.components.securitySchemes).sort()).toEqual(["basicAuth", "bearerAuth"]);
    expect(r.body.paths["/v1/folders/{folder}/messages/{uid}/flags"].patch.requestBody).toBeDefined();
  });

  it("answers unknown routes with 404 problem+json", async () => {
    const r = await call("GET", "/v2/nothing", undefined);
    expect(r.status).toBe(404);
    expect(r.type).toMatch(/^application\/problem\+json/);
  });
});
