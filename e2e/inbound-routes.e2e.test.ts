import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Fastify, { type FastifyInstance } from "fastify";
import { SIGNATURE_HEADER, verifySignature } from "@correo/signed-post";
import { eventually, freePort } from "@correo/testkit";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Inbound routes with every part real: the five services as `pnpm start` runs them,
 * mail driven into the MX listener by swaks and by Python's smtplib, a fastify receiver
 * that checks the Correo-Signature and answers 500 before its 200, and an attachment too
 * big to inline fetched from the submission API through its signed link (403 once
 * altered, 410 once expired).
 */
const run = promisify(execFile);
let correo: Correo;
let receiver: FastifyInstance;
let httpPort: number;
let apiKey: string;
const secrets = new Map<string, string>();
/** 500s each hook answers before it answers 200. */
const failFirst = new Map<string, number>([["support", 1]]);
const posts: { hook: string; body: any; valid: boolean }[] = [];
const LINK_TTL_S = 8;

beforeAll(async () => {
  const receiverPort = await freePort();
  receiver = Fastify();
  receiver.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
  receiver.post("/hook/:hook", async (req, reply) => {
    const hook = (req.params as { hook: string }).hook;
    const raw = req.body as string;
    const valid = verifySignature(req.headers[SIGNATURE_HEADER] as string | undefined, secrets.get(hook) ?? "", raw, new Date()).valid;
    posts.push({ hook, body: JSON.parse(raw), valid });
    if (!valid) return reply.code(401).send("bad signature");
    const left = failFirst.get(hook) ?? 0;
    if (left > 0) {
      failFirst.set(hook, left - 1);
      return reply.code(500).send("warming up");
    }
    return reply.code(200).send({ ok: true });
  });
  await receiver.listen({ host: "127.0.0.1", port: receiverPort });

  httpPort = await freePort();
  correo = await startCorreo("e2e-inbound", {
    SUBMISSION_HTTP_PORT: String(httpPort),
    INBOUND_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    INBOUND_LINK_TTL: `${LINK_TTL_S}s`,
    RELAY_MIN_BACKOFF: "1s",
    RELAY_MAX_BACKOFF: "2s",
  });
  await correo.cli(["domain", "add", "in.example.test"]);
  await correo.cli(["account", "add", "helpdesk@in.example.test", "--password", "long enough password"]);
  apiKey = (await correo.cli(["apikey", "create", "--domain", "in.example.test"])).api_key.token;

  // One route through the HTTP API (the key's domain), one through the CLI.
  const created = await api("POST", "/v1/inbound-routes", { pattern: "support@in.example.test", url: `http://127.0.0.1:${receiverPort}/hook/support`, inline_limit_bytes: 1024 });
  expect(created.status).toBe(201);
  secrets.set("support", created.body.inbound_route.secret);
  const cli = await correo.cli(["route", "add", "*@tickets.in.example.test", `http://127.0.0.1:${receiverPort}/hook/tickets`, "--fallback", "mailbox:helpdesk@in.example.test"]);
  expect(cli.inbound_route).toMatchObject({ domain: "in.example.test", pattern: "*@tickets.in.example.test", fallback: "mailbox:helpdesk@in.example.test", secret: expect.stringMatching(/^whsec_/) });
  secrets.set("tickets", cli.inbound_route.secret);
});

afterAll(async () => {
  await correo?.stop();
  await receiver?.close();
});

async function api(method: string, path: string, body?: unknown, key = apiKey) {
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : undefined };
}

const deliveryOf = (recipient: string) =>
  eventually(async () => {
    const { rows } = await correo.infra.pool.query<{ id: string; state: string; route: string; last_response: string; events: string[] }>(
      `SELECT d.id, d.state, d.route, d.last_response, array(SELECT event FROM delivery_events e WHERE e.delivery_id = d.id ORDER BY e.at, e.id) AS events
         FROM deliveries d WHERE d.recipient = $1`,
      [recipient],
    );
    return rows[0]?.state === "delivered" ? rows[0] : undefined;
  }, 30_000, `${recipient} delivered`);

describe("an inbound route, driven by real SMTP clients", () => {
  it("takes RCPT TO for a routed address without an account (swaks), retries a 500 and delivers the signed JSON with a linked attachment", async () => {
    const file = join(tmpdir(), `correo-inbound-${process.pid}.bin`);
    const content = Buffer.alloc(5000, 0).map((_, i) => i % 251);
    writeFileSync(file, content);
    const { stdout } = await run("swaks", [
      "--server", `127.0.0.1:${correo.env.SMTP_MX_PORT}`, "--from", "bob@remote.test", "--to", "support@in.example.test",
      "--header", "Subject: necesito ayuda", "--body", "Mi pedido no llegó.", "--attach-type", "application/octet-stream", "--attach", file,
    ]);
    expect(stdout).toMatch(/250 2\.6\.0 Message accepted/);

    const d = await deliveryOf("support@in.example.test");
    expect(d.route).toBe("inbound");
    expect(d.events).toEqual(["accepted", "routed", "deferred", "delivered"]);
    expect(d.last_response).toMatch(/^HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/hook\/support/);
    const mine = posts.filter((p) => p.hook === "support");
    expect(mine).toHaveLength(2);
    expect(mine.every((p) => p.valid)).toBe(true);
    const body = mine[1]!.body;
    expect(body).toMatchObject({
      type: "inbound",
      envelope: { mail_from: "bob@remote.test", rcpt_to: "support@in.example.test" },
      subject: "necesito ayuda",
      text: expect.stringContaining("Mi pedido no llegó."),
      delivery_id: d.id,
    });
    // The MX verifies (VERIFY_INBOUND=on by default, issue 14) and writes Authentication-Results; the payload carries it as written.
    expect(body.authentication_results).toMatch(/\bspf=\w+/);
    expect(body.headers.find(([name]: [string, string]) => name === "Authentication-Results")[1]).toBe(body.authentication_results);
    expect(body.headers.some(([name]: [string, string]) => name === "Received")).toBe(true);

    const attachment = body.attachments.find((a: any) => a.size === 5000);
    expect(attachment).toMatchObject({ content_type: "application/octet-stream" });
    expect(attachment.content).toBeUndefined();
    const fetched = await fetch(attachment.url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.from(await fetched.arrayBuffer()).equals(content)).toBe(true);

    // The same signature on another part's path is an altered link.
    const tampered = await fetch(attachment.url.replace(/attachments\/\d+/, `attachments/${attachment.index + 1}`));
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await tampered.json()).toMatchObject({ status: 403, errors: [{ field: "query.signature" }] });

    const expires = Number(new URL(attachment.url).searchParams.get("expires"));
    await new Promise((r) => setTimeout(r, Math.max(0, expires * 1000 - Date.now()) + 1100));
    const expired = await fetch(attachment.url);
    expect(expired.status).toBe(410);
    expect(await expired.json()).toMatchObject({ status: 410, title: "Gone", errors: [{ field: "query.expires" }] });
  }, 60_000);

  it("routes every address of a subdomain by its wildcard (smtplib), and still refuses unknown users of the domain", async () => {
    const script = [
      "import smtplib, sys",
      "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)",
      "s.ehlo('client.remote.test')",
      "s.sendmail('carla@remote.test', ['Ticket-42@tickets.in.example.test'], b'From: carla@remote.test\\r\\nSubject: ticket 42\\r\\nMessage-ID: <t42@remote.test>\\r\\n\\r\\nhola\\r\\n')",
      "try:",
      "    s.sendmail('carla@remote.test', ['nobody@in.example.test'], b'Subject: x\\r\\n\\r\\nx\\r\\n')",
      "except smtplib.SMTPRecipientsRefused as e:",
      "    print('refused', e.recipients['nobody@in.example.test'][0])",
      "s.quit()",
    ].join("\n");
    const { stdout } = await run("python3", ["-c", script, correo.env.SMTP_MX_PORT!], { timeout: 30_000 });
    expect(stdout.trim()).toBe("refused 550");
    const d = await deliveryOf("Ticket-42@tickets.in.example.test");
    expect(d.route).toBe("inbound");
    const post = posts.find((p) => p.hook === "tickets")!;
    expect(post.valid).toBe(true);
    expect(post.body).toMatchObject({ envelope: { mail_from: "carla@remote.test", rcpt_to: "Ticket-42@tickets.in.example.test" }, header_message_id: "t42@remote.test", text: "hola\n" });
  });

  it("lists the key's routes without their secrets, and refuses a route of another domain naming the field", async () => {
    const list = await api("GET", "/v1/inbound-routes");
    expect(list.status).toBe(200);
    expect(list.body.inbound_routes.map((r: any) => r.pattern)).toEqual(["*@tickets.in.example.test", "support@in.example.test"]);
    expect(list.body.inbound_routes.every((r: any) => r.secret === undefined)).toBe(true);
    const other = await api("POST", "/v1/inbound-routes", { pattern: "*@elsewhere.test", url: "https://app.test/hook" });
    expect(other.status).toBe(400);
    expect(other.body.errors).toEqual([{ field: "body.pattern", message: expect.stringMatching(/not an address of in\.example\.test/) }]);
    const dup = await api("POST", "/v1/inbound-routes", { pattern: "SUPPORT@in.example.test", url: "https://app.test/hook" });
    expect(dup).toMatchObject({ status: 409, body: { errors: [{ field: "body.pattern" }] } });

    const id = list.body.inbound_routes[1].id;
    const rotated = await api("PATCH", `/v1/inbound-routes/${id}`, { rotate_secret: true, give_up_after_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.inbound_route).toMatchObject({ id, give_up_after_seconds: 3600, secret: expect.stringMatching(/^whsec_/) });
    expect(rotated.body.inbound_route.secret).not.toBe(secrets.get("support"));
    expect((await api("PATCH", `/v1/inbound-routes/${id}`, {})).status).toBe(400);
    expect((await api("PATCH", `/v1/inbound-routes/${id}`, { fallback: "mailbox:ghost@in.example.test" })).body.errors).toEqual([
      { field: "body.fallback", message: "fallback mailbox ghost@in.example.test is not an enabled account" },
    ]);
  });
});
