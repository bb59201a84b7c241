import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import fc from "fast-check";
import { simpleParser } from "mailparser";
import { Broker } from "@correo/broker";
import { addDomain, createAdminKey, createApiKey } from "@correo/directory";
import { createLogger } from "@correo/telemetry";
import { fuzzRun, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { testHttpApi } from "./test-api.js";

/**
 * Templates (issue 15 item 3) and batch send (item 4) on the real fastify app, the real
 * PostgreSQL and RabbitMQ of the test's own isolation: CRUD through the HTTP and admin
 * APIs, preview, sending with a template, and batches with good and bad items.
 */
const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let app: FastifyInstance;
let key: { authorization: string };
let otherKey: { authorization: string };
let admin: { authorization: string };

type Json = Record<string, any>;
const call = async (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, body?: unknown, headers: Record<string, string> = key) => {
  const r = await app.inject({ method, url, headers, ...(body !== undefined && { payload: body as Json }) });
  return { status: r.statusCode, body: (r.body ? r.json() : undefined) as Json, type: r.headers["content-type"] };
};

async function rawOf(messageId: string) {
  const { rows } = await infra.pool.query<{ content: Buffer }>("SELECT b.content FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.id = $1", [messageId]);
  return simpleParser(rows[0]!.content);
}
const messageCount = async () => Number((await infra.pool.query("SELECT count(*) AS n FROM messages")).rows[0].n);

const WELCOME = {
  name: "welcome",
  subject: "Welcome, {{first_name}}",
  text: "Hello {{first_name}} & co,\nyour order {{order.id}}.\n",
  html: "<p>Hello {{first_name}},</p><p>order <b>{{order.id}}</b></p>",
};

beforeAll(async () => {
  infra = await isolatedInfra("submission-templates-batch");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  await addDomain(infra.pool, "example.test");
  await addDomain(infra.pool, "other.test");
  key = { authorization: `Bearer ${(await createApiKey(infra.pool, "example.test")).token}` };
  otherKey = { authorization: `Bearer ${(await createApiKey(infra.pool, "other.test")).token}` };
  admin = { authorization: `Bearer ${(await createAdminKey(infra.pool, "templates test")).token}` };
  app = testHttpApi({ logger: log, pool: infra.pool, broker, amqpUrl: infra.amqpUrl, prefix: infra.prefix });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await broker?.close();
  await infra?.cleanup();
});

describe("templates: HTTP API (/v1/templates, the API key's domain)", () => {
  it("creates a template (201) and refuses the same name again with 409 naming body.name", async () => {
    const r = await call("POST", "/v1/templates", WELCOME);
    expect(r.status).toBe(201);
    expect(r.body.template).toMatchObject({ ...WELCOME, domain: "example.test" });
    const again = await call("POST", "/v1/templates", WELCOME);
    expect(again.status).toBe(409);
    expect(again.body.errors).toEqual([{ field: "body.name", message: "domain example.test already has a template 'welcome'" }]);
  });

  it("refuses a template that does not compile with 400 naming the part, and stores nothing", async () => {
    const r = await call("POST", "/v1/templates", { name: "broken", subject: "ok", html: "<p>{{#each items}}{{name}}</p>" });
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/problem\+json/);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0].field).toBe("body.html");
    expect(r.body.errors[0].message).toMatch(/^does not compile: /);
    expect((await call("GET", "/v1/templates/broken")).status).toBe(404);
  });

  it("refuses a template with neither text nor html: 400 naming body.text", async () => {
    const r = await call("POST", "/v1/templates", { name: "bodiless", subject: "{{x}}" });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: "body.text", message: "a template needs text or html (or both)" }]);
  });

  it("refuses an unknown helper on update too (400 body.text), leaving the template as it was", async () => {
    const r = await call("PATCH", "/v1/templates/welcome", { text: "{{shout first_name}}" });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: "body.text", message: "does not compile: You specified knownHelpersOnly, but used the unknown helper shout" }]);
    expect((await call("GET", "/v1/templates/welcome")).body.template.text).toBe(WELCOME.text);
  });

  it("lists and shows only the key's own domain's templates", async () => {
    expect((await call("GET", "/v1/templates")).body.templates.map((t: Json) => t.name)).toEqual(["welcome"]);
    expect((await call("GET", "/v1/templates", undefined, otherKey)).body.templates).toEqual([]);
    const foreign = await call("GET", "/v1/templates/welcome", undefined, otherKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body.errors[0].field).toBe("params.name");
  });

  it("previews: subject and text as given, html escaped, nothing sent", async () => {
    const before = await messageCount();
    const r = await call("POST", "/v1/templates/welcome/preview", { variables: { first_name: "<Ana & Bo>", order: { id: "A-1" } } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      subject: "Welcome, <Ana & Bo>",
      text: "Hello <Ana & Bo> & co,\nyour order A-1.\n",
      html: "<p>Hello &lt;Ana &amp; Bo&gt;,</p><p>order <b>A-1</b></p>",
    });
    expect(await messageCount()).toBe(before);
  });

  it("answers a preview without a variable with 400 naming each one missing (variables.first_name, variables.order.id)", async () => {
    const r = await call("POST", "/v1/templates/welcome/preview", { variables: {} });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: Json) => e.field)).toEqual(["variables.first_name", "variables.order.id"]);
    expect(r.body.errors[0].message).toBe("is used by the template (subject, line 1, column 12) but not given");
  });

  it("refuses a variable that would put CR/LF into the subject (header injection)", async () => {
    const r = await call("POST", "/v1/templates/welcome/preview", { variables: { first_name: "x\r\nBcc: victim@example.net", order: { id: 1 } } });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: "variables.first_name", message: "would put CR, LF or NUL into the Subject header (RFC 5322 §2.2); header injection is refused" }]);
  });

  it("updates parts with PATCH and refuses to remove both bodies (400 body.text)", async () => {
    const r = await call("PATCH", "/v1/templates/welcome", { subject: "Hi {{first_name}}" });
    expect(r.status).toBe(200);
    expect(r.body.template.subject).toBe("Hi {{first_name}}");
    const empty = await call("PATCH", "/v1/templates/welcome", { text: null, html: null });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].field).toBe("body.text");
    await call("PATCH", "/v1/templates/welcome", { subject: WELCOME.subject });
  });
});

describe("templates: admin API (/v1/admin/domains/:domain/templates)", () => {
  it("creates, lists, previews and deletes a domain's template", async () => {
    const created = await call("POST", "/v1/admin/domains/other.test/templates", { name: "receipt", subject: "Receipt {{n}}", text: "n={{n}}" }, admin);
    expect(created.status).toBe(201);
    expect(created.body.template).toMatchObject({ name: "receipt", domain: "other.test", html: null });
    expect((await call("GET", "/v1/admin/domains/other.test/templates", undefined, admin)).body.templates.map((t: Json) => t.name)).toEqual(["receipt"]);
    expect((await call("POST", "/v1/admin/domains/other.test/templates/receipt/preview", { variables: { n: 7 } }, admin)).body).toEqual({
      subject: "Receipt 7",
      text: "n=7",
      html: null,
    });
    expect((await call("DELETE", "/v1/admin/domains/other.test/templates/receipt", undefined, admin)).status).toBe(204);
    expect((await call("DELETE", "/v1/admin/domains/other.test/templates/receipt", undefined, admin)).status).toBe(404);
  });

  it("answers 404 naming params.domain for a domain not hosted, and 401 without the admin key", async () => {
    const r = await call("GET", "/v1/admin/domains/nowhere.test/templates", undefined, admin);
    expect(r.status).toBe(404);
    expect(r.body.errors).toEqual([{ field: "params.domain", message: "domain nowhere.test is not hosted here" }]);
    expect((await call("GET", "/v1/admin/domains/example.test/templates", undefined, key)).status).toBe(401);
  });
});

describe("POST /v1/messages with a template", () => {
  it("renders the template into the message it accepts (202): subject, text, html escaped", async () => {
    const r = await call("POST", "/v1/messages", { from: "Shop <shop@example.test>", to: "ana@remote.test", template: "welcome", variables: { first_name: "Ana <3", order: { id: "A-9" } } });
    expect(r.status).toBe(202);
    const parsed = await rawOf(r.body.id);
    expect(parsed.subject).toBe("Welcome, Ana <3");
    expect(parsed.text).toBe("Hello Ana <3 & co,\nyour order A-9.\n");
    expect(parsed.html).toBe("<p>Hello Ana &lt;3,</p><p>order <b>A-9</b></p>");
    const { rows } = await infra.pool.query("SELECT subject FROM messages WHERE id = $1", [r.body.id]);
    expect(rows[0].subject).toBe("Welcome, Ana <3");
  });

  it("uses the template as it is now: an update is seen by the next send", async () => {
    const send = () => call("POST", "/v1/messages", { from: "shop@example.test", to: "ana@remote.test", template: "welcome", variables: { first_name: "Ana", order: { id: 1 } } });
    expect((await rawOf((await send()).body.id)).subject).toBe("Welcome, Ana");
    await call("PATCH", "/v1/templates/welcome", { subject: "Updated for {{first_name}}" });
    expect((await rawOf((await send()).body.id)).subject).toBe("Updated for Ana");
    await call("PATCH", "/v1/templates/welcome", { subject: WELCOME.subject });
    expect((await rawOf((await send()).body.id)).subject).toBe("Welcome, Ana");
  });

  it("refuses template together with subject, text or html: 400 naming each", async () => {
    const r = await call("POST", "/v1/messages", { from: "shop@example.test", to: "ana@remote.test", template: "welcome", subject: "x", html: "<p>y</p>", variables: {} });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      { field: "subject", message: "cannot be given with template: the template has it" },
      { field: "html", message: "cannot be given with template: the template has it" },
    ]);
  });

  it("answers a missing variable with 400 naming variables.first_name, and accepts nothing", async () => {
    const before = await messageCount();
    const r = await call("POST", "/v1/messages", { from: "shop@example.test", to: "ana@remote.test", template: "welcome", variables: { order: { id: 1 } } });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: Json) => e.field)).toEqual(["variables.first_name"]);
    expect(await messageCount()).toBe(before);
  });

  it("refuses an unknown template (400 template) and variables without a template (400 variables)", async () => {
    const unknown = await call("POST", "/v1/messages", { from: "shop@example.test", to: "ana@remote.test", template: "nope" });
    expect(unknown.body.errors).toEqual([{ field: "template", message: "no template 'nope' in domain example.test" }]);
    const stray = await call("POST", "/v1/messages", { from: "shop@example.test", to: "ana@remote.test", text: "x", variables: { a: 1 } });
    expect(stray.body.errors).toEqual([{ field: "variables", message: "needs template: variables are for a template" }]);
  });
});

describe("POST /v1/messages/batch", () => {
  const good = (to: string, extra: Json = {}) => ({ from: "shop@example.test", to, template: "welcome", variables: { first_name: to.split("@")[0], order: { id: to } }, ...extra });

  it("accepts the good items and refuses each bad one with its own problem, index-addressed (200, partial success)", async () => {
    const before = await messageCount();
    const r = await call("POST", "/v1/messages/batch", {
      messages: [
        good("one@remote.test", { tags: ["batch"], metadata: { customer: "1" } }),
        { from: "shop@example.test", to: "two@remote.test", template: "welcome", variables: { order: { id: 2 } } },
        good("not an address"),
        good("three@remote.test", { from: "shop@other.test" }),
        { ...good("four@remote.test"), colour: "red" },
        { from: "shop@example.test", to: "five@remote.test", subject: "plain", text: "no template" },
        "not a message",
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: Json) => [x.index, x.status])).toEqual([[0, 202], [1, 400], [2, 400], [3, 403], [4, 400], [5, 202], [6, 400]]);
    expect(r.body).toMatchObject({ accepted: 2, failed: 5 });
    const [ok, missing, badAddress, foreign, unknownField, plain, notObject] = r.body.results;
    expect(ok.recipients).toEqual([{ address: "one@remote.test", delivery_id: expect.any(String), status: "queued" }]);
    expect(missing.problem.errors).toEqual([{ field: "messages[1].variables.first_name", message: "is used by the template (subject, line 1, column 12) but not given" }]);
    expect(badAddress.problem.errors[0].field).toBe("messages[2].to");
    expect(foreign.problem.errors).toEqual([{ field: "messages[3].from", message: "this API key may send from @example.test only, not from @other.test" }]);
    expect(unknownField.problem.errors).toEqual([{ field: "messages[4].colour", message: "is not a known field" }]);
    expect(notObject.problem.errors[0].field).toBe("messages[6]");
    expect(await messageCount()).toBe(before + 2);
    const { rows } = await infra.pool.query("SELECT tags, metadata FROM messages WHERE id = $1", [ok.id]);
    expect(rows[0]).toEqual({ tags: ["batch"], metadata: { customer: "1" } });
    expect((await rawOf(plain.id)).subject).toBe("plain");
  });

  it("names the very element at fault in an item's schema error, as the single route does", async () => {
    const r = await call("POST", "/v1/messages/batch", {
      messages: [
        { from: "shop@example.test", to: ["ok@remote.test", 2], text: "x" },
        { from: "shop@example.test", to: 5, text: "x" },
        { from: "shop@example.test", to: "ok@remote.test", subject: "a\r\nBcc: victim@remote.test", text: "x" },
      ],
    });
    expect(r.body.results.map((x: Json) => x.problem.errors)).toEqual([
      [{ field: "messages[0].to[1]", message: "expected string" }],
      [{ field: "messages[1].to", message: "must be an address or a list of addresses" }],
      [{ field: "messages[2].subject", message: "must be Subject header" }],
    ]);
  });

  it("replays an item with the same idempotency key and body; the same key with another body is 422 for that item only", async () => {
    const first = await call("POST", "/v1/messages/batch", { messages: [good("idem@remote.test", { idempotency_key: "batch-idem-1" })] });
    expect(first.body.results[0].status).toBe(202);
    const before = await messageCount();
    const again = await call("POST", "/v1/messages/batch", {
      messages: [good("idem@remote.test", { idempotency_key: "batch-idem-1" }), good("idem@remote.test", { idempotency_key: "batch-idem-1", tags: ["changed"] }), good("new@remote.test")],
    });
    expect(again.body.results.map((x: Json) => x.status)).toEqual([202, 422, 202]);
    expect(again.body.results[0]).toMatchObject({ id: first.body.results[0].id, idempotent_replayed: true });
    expect(again.body.results[1].problem.errors).toEqual([{ field: "messages[1].idempotency_key", message: "was used with a different request body" }]);
    expect(await messageCount()).toBe(before + 1);
  });

  it("shares the key space with POST /v1/messages' Idempotency-Key: the same message under the same key is one message", async () => {
    const message = good("shared@remote.test");
    const single = await call("POST", "/v1/messages", message, { ...key, "idempotency-key": "shared-key" });
    expect(single.status).toBe(202);
    const batch = await call("POST", "/v1/messages/batch", { messages: [{ ...message, idempotency_key: "shared-key" }] });
    expect(batch.body.results[0]).toMatchObject({ status: 202, id: single.body.id, idempotent_replayed: true });
  });

  it("gives a suppressed recipient of an item the status 'suppressed', as the single route does", async () => {
    expect((await call("POST", "/v1/suppressions", { address: "gone@remote.test" })).status).toBe(201);
    const r = await call("POST", "/v1/messages/batch", { messages: [good("gone@remote.test"), good("here@remote.test")] });
    expect(r.body.results.map((x: Json) => [x.status, x.recipients[0].status])).toEqual([[202, "suppressed"], [202, "queued"]]);
  });

  it("refuses 501 messages with 413 naming messages, and accepts none of them", async () => {
    const before = await messageCount();
    const r = await call("POST", "/v1/messages/batch", { messages: Array.from({ length: 501 }, (_, i) => good(`m${i}@remote.test`)) });
    expect(r.status).toBe(413);
    expect(r.body.errors).toEqual([{ field: "messages", message: "at most 500 messages, got 501" }]);
    expect(await messageCount()).toBe(before);
  });

  it("refuses a body that is not a batch: 400 naming messages or body", async () => {
    expect((await call("POST", "/v1/messages/batch", { messages: {} })).body.errors).toEqual([{ field: "messages", message: "must be an array of messages" }]);
    expect((await call("POST", "/v1/messages/batch", [good("a@remote.test")])).body.errors).toEqual([{ field: "body", message: 'must be an object: { "messages": [ … ] }' }]);
    expect((await call("POST", "/v1/messages/batch", { messages: [] })).body.errors).toEqual([{ field: "messages", message: "must hold at least one message" }]);
    expect((await call("POST", "/v1/messages/batch", { messages: [good("a@remote.test")], extra: 1 })).status).toBe(400);
  });

  it("needs an API key (401) before reading the batch", async () => {
    expect((await call("POST", "/v1/messages/batch", { messages: [] }, {})).status).toBe(401);
  });

  it("accepts a batch of 500 in one request, each message durable with its own delivery", async () => {
    const before = await messageCount();
    const t0 = performance.now();
    const r = await call("POST", "/v1/messages/batch", { messages: Array.from({ length: 500 }, (_, i) => good(`n${i}@remote.test`)) });
    const ms = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(500);
    expect(new Set(r.body.results.map((x: Json) => x.id)).size).toBe(500);
    expect(await messageCount()).toBe(before + 500);
    log.info({ ms }, "batch of 500");
  });
});

describe("templates and batches under fuzzed input", () => {
  const source = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom("{{", "}}", "{{#if a}}", "{{/if}}", "{{> p}}", "{{{x}}}", "{{a.b.c}}", "{{#each xs}}{{this}}{{/each}}", "{{lookup a 'b'}}", "{{!-- c --}}", "{{else}}", "{{@root.x}}", "{{../x}}", "{{x}}"),
  ).chain((head) => fc.array(fc.oneof(fc.constant(head), fc.string({ maxLength: 8 }), fc.constantFrom("{{x}}", "{{#with a}}{{b}}{{/with}}")), { maxLength: 4 }).map((xs) => xs.join("")));
  const variables = fc.oneof(
    fc.dictionary(fc.constantFrom("x", "a", "xs", "first_name", "order", "__proto__", "constructor"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 1 }),
  );

  it("stores a fuzzed template (201) or refuses it (400 naming a field), and previews it (200 or 400 naming a variable), never 5xx", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(source, fc.option(source, { nil: undefined }), fc.option(source, { nil: undefined }), variables, async (subject, text, html, vars) => {
        const name = `fuzz-${n++}`;
        const created = await call("POST", "/v1/templates", { name, subject, text, html });
        expect([201, 400], JSON.stringify(created.body)).toContain(created.status);
        if (created.status === 400) {
          for (const e of created.body.errors) expect(e.field).toMatch(/^body(\.(name|subject|text|html))?$/);
          return;
        }
        const preview = await call("POST", `/v1/templates/${name}/preview`, { variables: vars });
        // fastify refuses any body with a "__proto__" key, before the route (prototype poisoning).
        if (JSON.stringify(vars).includes('"__proto__"')) return void expect(preview.status).toBe(400);
        expect([200, 400], JSON.stringify(preview.body)).toContain(preview.status);
        if (preview.status === 400) for (const e of preview.body.errors) expect(e.field).toMatch(/^(body(\.variables)?|variables\..+|template\.(subject|text|html))$/);
        else expect(preview.body.subject).not.toMatch(/[\r\n]/);
      }),
      fuzzRun(1501, 60),
    );
  });

  it("answers every fuzzed batch item on its own: 202 or a 4xx problem addressed to its index, and commits exactly the 202s", async () => {
    const item = fc.record(
      {
        from: fc.oneof({ weight: 4, arbitrary: fc.constant("shop@example.test") }, fc.constantFrom("shop@other.test", "not an address", 7)),
        to: fc.oneof({ weight: 4, arbitrary: fc.constant("x@remote.test") }, fc.constantFrom(["a@remote.test", 2], [], null, "bad@@remote")),
        template: fc.oneof(fc.constant("welcome"), fc.constantFrom("nope", "", "UPPER")),
        variables: fc.oneof({ weight: 3, arbitrary: fc.constant({ first_name: "F", order: { id: 1 } }) }, variables),
        subject: fc.constantFrom("s", "a\r\nb"),
        idempotency_key: fc.constantFrom("fz-1", "fz-2", ""),
        tags: fc.constantFrom(["ok"], ["a b"]),
        colour: fc.constant("red"),
      },
      { requiredKeys: ["from", "to"] },
    );
    const batch = fc.array(fc.oneof({ weight: 6, arbitrary: item }, fc.jsonValue({ maxDepth: 1 })), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(batch, async (messages) => {
        const before = await messageCount();
        const r = await call("POST", "/v1/messages/batch", { messages });
        if (JSON.stringify(messages).includes('"__proto__"')) return void expect(r.status).toBe(400);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.results).toHaveLength(messages.length);
        let fresh = 0;
        r.body.results.forEach((res: Json, i: number) => {
          expect(res.index).toBe(i);
          if (res.status === 202) {
            if (!res.idempotent_replayed) fresh++;
            expect(res.id).toEqual(expect.any(String));
          } else {
            expect([400, 403, 422], JSON.stringify(res)).toContain(res.status);
            expect(res.problem.status).toBe(res.status);
            for (const e of res.problem.errors) expect(e.field.startsWith(`messages[${i}]`), e.field).toBe(true);
          }
        });
        expect(await messageCount()).toBe(before + fresh);
      }),
      fuzzRun(1502, 60),
    );
  });
});
