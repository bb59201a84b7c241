import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually } from "@correo/testkit";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * Issue 15 items 3 and 4 with the whole of Correo running as `pnpm start` runs it: a
 * template stored with the CLI, a batch sent over HTTP with good and bad items, and the
 * good ones read back from their mailboxes over POP3 (Python's poplib), rendered.
 */
let correo: Correo;
let token: string;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  correo = await startCorreo("e2e-templates-batch");
  await correo.cli(["domain", "add", "example.test"]);
  await correo.cli(["account", "add", "ana@example.test", "--password-stdin"], "ana-secret-1\n");
  await correo.cli(["account", "add", "bo@example.test", "--password-stdin"], "bo-secret-12\n");
  token = (await correo.cli(["apikey", "create", "--domain", "example.test"])).api_key.token;
  await correo.cli(["template", "add", "example.test", "order", "--subject", "Order {{order.id}} for {{name}}", "--text", "Hello {{name}}, {{#each order.items}}{{this}};{{/each}}", "--html", "<p>Hello {{name}}</p>"]);
});

afterAll(async () => {
  await correo?.stop();
});

describe("a batch of templated messages", () => {
  it("delivers each good item to its mailbox, rendered and HTML-escaped, and refuses the bad one alone", async () => {
    const sent = await call("POST", "/v1/messages/batch", {
      messages: [
        { from: "shop@example.test", to: "ana@example.test", template: "order", variables: { name: "Ana & Co", order: { id: "A-1", items: ["tea", "café"] } }, tags: ["batch-e2e"] },
        { from: "shop@example.test", to: "bo@example.test", template: "order", variables: { name: "Bo" } },
        { from: "shop@example.test", to: "bo@example.test", template: "order", variables: { name: "<Bo>", order: { id: "B-2", items: [] } }, idempotency_key: "bo-order-b2" },
      ],
    });
    expect(sent.status).toBe(200);
    expect(sent.body.results.map((r: any) => r.status)).toEqual([202, 400, 202]);
    expect(sent.body.results[1].problem.errors.map((e: any) => e.field)).toEqual(["messages[1].variables.order.id", "messages[1].variables.order"]);

    for (const i of [0, 2]) {
      await eventually(async () => {
        const r = await call("GET", `/v1/messages/${sent.body.results[i].id}`);
        return r.body.recipients?.[0]?.status === "delivered";
      }, 60_000, `batch item ${i} delivered`);
    }
    const ana = await pop3(correo, "ana@example.test", "ana-secret-1", "retr", 1);
    const a = await simpleParser(Buffer.from(ana.message, "base64"));
    expect(a.subject).toBe("Order A-1 for Ana & Co");
    expect(a.text?.trim()).toBe("Hello Ana & Co, tea;café;");
    expect(a.html).toBe("<p>Hello Ana &amp; Co</p>");
    const bo = await pop3(correo, "bo@example.test", "bo-secret-12", "retr", 1);
    expect(bo.stat[0]).toBe(1);
    const b = await simpleParser(Buffer.from(bo.message, "base64"));
    expect(b.subject).toBe("Order B-2 for <Bo>");
    expect(b.html).toBe("<p>Hello &lt;Bo&gt;</p>");
  });
});
