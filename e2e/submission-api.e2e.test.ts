import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually } from "@correo/testkit";
import { pop3, startCorreo, type Correo } from "./harness.js";

const run = promisify(execFile);

/**
 * Both ways in, with the whole of Correo running as `pnpm start` runs it: the HTTP
 * submission API (OpenAPI, Idempotency-Key, listing, raw messages, every refusal as
 * problem+json) and SMTP through the MX listener, read back over POP3.
 */
let correo: Correo;
let token: string;
let otherToken: string;
const api = (path: string) => `http://127.0.0.1:${correo.ports.http}${path}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, key: string | null = token) {
  const res = await fetch(api(path), {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type") ?? "", headers: res.headers, body: text.startsWith("{") ? JSON.parse(text) : text };
}

async function messageCount(): Promise<number> {
  return (await correo.infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM messages")).rows[0]!.n;
}

beforeAll(async () => {
  correo = await startCorreo("e2e-submission-api");
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["domain", "add", "other.test"]);
  await correo.cli(["account", "add", "ana@example.test", "--password-stdin"], "s3cret-pass\n");
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  otherToken = (await correo.cli(["apikey", "create", "--domain", "other.test"])).api_key.token;
});

afterAll(async () => {
  await correo?.stop();
});

describe("OpenAPI", () => {
  it("serves an OpenAPI 3 document generated from the route schemas, and a browsable UI at /docs", async () => {
    const doc = await call("GET", "/openapi.json", undefined, {}, null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/v1/messages", "/v1/messages/raw", "/v1/messages/{id}"]));
    const send = doc.body.paths["/v1/messages"].post;
    expect(send.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
    expect(Object.keys(send.requestBody.content["application/json"].schema.properties)).toEqual(
      expect.arrayContaining(["from", "to", "cc", "bcc", "reply_to", "subject", "text", "html", "attachments", "headers", "tags", "metadata"]),
    );
    expect(send.parameters.map((p: { name: string }) => p.name)).toContain("idempotency-key");
    const ui = await fetch(api("/docs/"));
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain("swagger");
  });
});

describe("POST /v1/messages", () => {
  it("tells 401 (no or bad key) from 403 (a key of another domain)", async () => {
    const msg = { from: "ana@example.test", to: "ana@example.test", text: "x" };
    const none = await call("POST", "/v1/messages", msg, {}, null);
    expect(none.status).toBe(401);
    expect(none.type).toContain("application/problem+json");
    expect((await call("POST", "/v1/messages", msg, {}, "correo_0000000000000000_nope")).status).toBe(401);
    const foreign = await call("POST", "/v1/messages", msg, {}, otherToken);
    expect(foreign.status).toBe(403);
    expect(foreign.body.errors).toEqual([{ field: "from", message: expect.stringContaining("@other.test") }]);
  });

  it.each([
    ["CR/LF in the subject", { subject: "hi\r\nBcc: victim@elsewhere.test" }, "body.subject"],
    ["LF in a custom header", { headers: { "X-Note": "a\nBcc: victim@elsewhere.test" } }, "body.headers.X-Note"],
    ["CR/LF in a display name", { to: "Ana\r\nBcc: x@y.test <ana@example.test>" }, "body.to"],
    ["an unknown field", { priority: "high" }, "body.priority"],
    ["a bad address", { to: ["ana@example.test", "not an address"] }, "to[1]"],
    ["a bad tag", { tags: ["no spaces allowed"] }, "body.tags.0"],
  ])("refuses %s with 400 naming the field, storing nothing", async (_name, change, field) => {
    const before = await messageCount();
    const res = await call("POST", "/v1/messages", { from: "ana@example.test", to: "ana@example.test", text: "x", ...change });
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await messageCount()).toBe(before);
  });

  it("refuses too many recipients (400) and oversize messages (413)", async () => {
    const before = await messageCount();
    const many = Array.from({ length: 101 }, (_, i) => `r${i}@elsewhere.test`);
    const tooMany = await call("POST", "/v1/messages", { from: "ana@example.test", to: many, text: "x" });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe("to");
    const big = Buffer.alloc(26 * 1024 * 1024, 0x61).toString("base64");
    const tooBig = await call("POST", "/v1/messages", { from: "ana@example.test", to: "ana@example.test", attachments: [{ filename: "big.txt", content: big }] });
    expect(tooBig.status).toBe(413);
    expect(tooBig.type).toContain("application/problem+json");
    expect(await messageCount()).toBe(before);
  });

  it("honours Idempotency-Key: same body → the first response and nothing new; other body → 422; racing twins → one message", async () => {
    const before = await messageCount();
    const body = { from: "ana@example.test", to: "ana@example.test", subject: "once", text: "only once" };
    const first = await call("POST", "/v1/messages", body, { "idempotency-key": "order-1001" });
    expect(first.status).toBe(202);
    const again = await call("POST", "/v1/messages", body, { "idempotency-key": "order-1001" });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await call("POST", "/v1/messages", { ...body, text: "changed" }, { "idempotency-key": "order-1001" });
    expect(other.status).toBe(422);
    expect(other.body.errors[0].field).toBe("headers.idempotency-key");
    const twins = await Promise.all(Array.from({ length: 6 }, () => call("POST", "/v1/messages", body, { "idempotency-key": "order-1002" })));
    expect(twins.map((t) => t.status)).toEqual(Array(6).fill(202));
    expect(new Set(twins.map((t) => t.body.id)).size).toBe(1);
    expect(await messageCount()).toBe(before + 2);
  });
});

describe("POST /v1/messages/raw and GET /v1/messages", () => {
  it("sends a complete message as it is, adding only trace fields, and follows it to the mailbox", async () => {
    const raw = "From: Ana <ana@example.test>\nTo: ana@example.test\nSubject: crudo\nX-Keep: yes\n\nHola, tal cual.\n";
    const sent = await call("POST", "/v1/messages/raw", { from: "ana@example.test", to: ["ana@example.test"], message: raw, tags: ["raw"] });
    expect(sent.status).toBe(202);
    expect(sent.body.message_id).toMatch(/@mx\.correo\.test>$/);
    const status = await eventually(async () => {
      const r = await call("GET", `/v1/messages/${sent.body.id}`);
      return r.body.recipients?.[0]?.status === "delivered" ? r.body : undefined;
    }, 30_000, "delivered");
    expect(status.recipients[0].events.map((e: { event: string }) => e.event)).toEqual(["accepted", "routed", "delivered"]);
    expect(status.tags).toEqual(["raw"]);
    const { rows } = await correo.infra.pool.query("SELECT convert_from(b.content, 'UTF8') AS raw FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.id = $1", [sent.body.id]);
    expect(rows[0].raw).toMatch(/^Received: from \[127\.0\.0\.1\]\r\n\tby mx\.correo\.test \(Correo\) with HTTP id /);
    expect(rows[0].raw).toContain("\r\nFrom: Ana <ana@example.test>\r\nTo: ana@example.test\r\nSubject: crudo\r\nX-Keep: yes\r\n\r\nHola, tal cual.\r\n");
  });

  it("refuses a raw message whose From: is outside the key's domain (403) or that is not a message (400)", async () => {
    const spoof = await call("POST", "/v1/messages/raw", { from: "ana@example.test", to: "ana@example.test", message: "From: ceo@bank.test\r\n\r\nx" });
    expect(spoof.status).toBe(403);
    const junk = await call("POST", "/v1/messages/raw", { from: "ana@example.test", to: "ana@example.test", message: "just text" });
    expect(junk.status).toBe(400);
    expect(junk.body.errors[0].field).toBe("message");
  });

  it("lists messages newest first with filters and a cursor that visits each exactly once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/v1/messages", { from: "ana@example.test", to: "list@elsewhere.test", text: `n${i}`, tags: ["batch"], metadata: { n: String(i) } });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await call("GET", `/v1/messages?tag=batch&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((m: { id: string }) => m.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const byRecipient = await call("GET", "/v1/messages?to=list@elsewhere.test&limit=100");
    expect(byRecipient.body.data).toHaveLength(5);
    expect(byRecipient.body.data[0].metadata).toEqual({ n: "4" });
    // Remote recipients here never reach "delivered" (the relay port is closed in tests).
    const none = await call("GET", "/v1/messages?tag=batch&status=delivered");
    expect(none.body.data).toEqual([]);
    expect((await call("GET", "/v1/messages?tag=batch", undefined, {}, otherToken)).body.data).toEqual([]);
    expect((await call("GET", "/v1/messages?cursor=bm9wZQ")).status).toBe(400);
  });
});

describe("SMTP into a mailbox", () => {
  it("delivers a message accepted by the MX listener (swaks) to the POP3 mailbox", async () => {
    const { stdout } = await run("swaks", [
      "--server", `127.0.0.1:${correo.env.SMTP_MX_PORT}`, "--from", "bob@remote.test", "--to", "ana@example.test",
      "--header", "Subject: por SMTP", "--body", "Llegó por el puerto 25.",
    ]);
    expect(stdout).toMatch(/250 2\.6\.0 Message accepted/);
    const box = await eventually(async () => {
      const b = await pop3(correo, "ana@example.test", "s3cret-pass", "list");
      return b.stat[0] >= 1 ? b : undefined;
    }, 30_000, "in the mailbox");
    let found = false;
    for (let n = 1; n <= box.stat[0] && !found; n++) {
      const m = await simpleParser(Buffer.from((await pop3(correo, "ana@example.test", "s3cret-pass", "retr", n)).message, "base64"));
      found = m.subject === "por SMTP" && m.headers.get("received") !== undefined;
    }
    expect(found).toBe(true);
  });
});
