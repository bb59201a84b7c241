import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { Broker } from "@correo/broker";
import { addDomain, createAdminKey, createApiKey } from "@correo/directory";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { testHttpApi } from "./test-api.js";
import { runCli } from "../../../packages/cli/test/run-cli.js";

// Issue 15: the suppression list through the HTTP API (the key's domain), the admin API
// (any domain) and the CLI; a send to a listed address answers 202 with it `suppressed`.
let infra: IsolatedInfra;
let broker: Broker;
let app: FastifyInstance;
let key: string;
let testKey: string;
let adminKey: string;

const call = (token: string) => async (method: "GET" | "POST" | "DELETE", url: string, body?: unknown) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
const http = (...a: Parameters<ReturnType<typeof call>>) => call(key)(...a);
const admin = (...a: Parameters<ReturnType<typeof call>>) => call(adminKey)(...a);

beforeAll(async () => {
  infra = await isolatedInfra("suppressions_http");
  const log = createLogger("test", "silent");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  app = testHttpApi({ logger: log, pool: infra.pool, broker, amqpUrl: infra.amqpUrl, prefix: infra.prefix });
  await app.ready();
  await addDomain(infra.pool, "example.test");
  await addDomain(infra.pool, "other.test");
  key = (await createApiKey(infra.pool, "example.test")).token;
  testKey = (await createApiKey(infra.pool, "example.test", "staging", { testMode: true })).token;
  adminKey = (await createAdminKey(infra.pool, "suppressions test")).token;
});
afterAll(async () => {
  await app?.close();
  await broker?.close();
  await infra?.cleanup();
});

describe("/v1/suppressions (the API key's domain)", () => {
  it("adds an address by hand (201), keeps an existing entry (200) and refuses a non-address with problem+json naming the field", async () => {
    const added = await http("POST", "/v1/suppressions", { address: "Bob@Remote.example", detail: "asked by phone" });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().suppression).toMatchObject({ address: "bob@remote.example", reason: "manual", detail: "asked by phone", message_id: null });
    expect((await http("POST", "/v1/suppressions", { address: "bob@remote.example" })).statusCode).toBe(200);
    const bad = await http("POST", "/v1/suppressions", { address: "not an address" });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(bad.json().errors).toEqual([{ field: "body.address", message: expect.stringContaining("not an e-mail address") }]);
    const extra = await http("POST", "/v1/suppressions", { address: "x@y.example", reason: "complaint" });
    expect(extra.statusCode).toBe(400);
  });

  it("answers 202 with a listed recipient `suppressed` and the others `queued`, and the timeline says why", async () => {
    const sent = await http("POST", "/v1/messages", { from: "ana@example.test", to: ["bob@remote.example", "carol@remote.example"], subject: "hi", text: "hello" });
    expect(sent.statusCode, sent.body).toBe(202);
    const body = sent.json();
    expect(body.recipients.map((r: any) => [r.address, r.status])).toEqual([
      ["bob@remote.example", "suppressed"],
      ["carol@remote.example", "queued"],
    ]);
    const status = (await http("GET", `/v1/messages/${body.id}`)).json();
    expect(status.test).toBe(false);
    const bob = status.recipients.find((r: any) => r.address === "bob@remote.example");
    expect(bob.status).toBe("suppressed");
    expect(bob.events.map((e: any) => e.event)).toEqual(["accepted", "suppressed"]);
    expect(bob.events[1].detail).toMatch(/^not sent: on the suppression list of example\.test \(manual since \d{4}-/);
  });

  it("lists with a cursor, newest first, and refuses a cursor it did not give", async () => {
    for (const a of ["c1@remote.example", "c2@remote.example", "c3@remote.example"]) await http("POST", "/v1/suppressions", { address: a });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { address: string }[]; next_cursor: string | null } = (await http("GET", `/v1/suppressions?limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((e) => e.address));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(["c3@remote.example", "c2@remote.example", "c1@remote.example", "bob@remote.example"]);
    const bad = await http("GET", "/v1/suppressions?cursor=bm9wZQ");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe("querystring.cursor");
  });

  it("exports the list as RFC 4180 CSV", async () => {
    await http("POST", "/v1/suppressions", { address: "quote@remote.example", detail: 'said "stop", twice' });
    const csv = await http("GET", "/v1/suppressions/export");
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const lines = csv.body.split("\r\n");
    expect(lines[0]).toBe("address,reason,detail,created_at,message_id");
    expect(lines[1]).toMatch(/^quote@remote\.example,manual,"said ""stop"", twice",\d{4}-\d\d-\d\dT[^,]+Z,$/);
    expect(lines.filter((l) => l !== "")).toHaveLength(1 + 5);
  });

  it("shows and removes one entry; removing it again is a 404 naming the address", async () => {
    expect((await http("GET", "/v1/suppressions/c1@remote.example")).json().suppression.address).toBe("c1@remote.example");
    expect((await http("DELETE", "/v1/suppressions/c1@remote.example")).statusCode).toBe(204);
    const again = await http("DELETE", "/v1/suppressions/c1@remote.example");
    expect(again.statusCode).toBe(404);
    expect(again.json().errors[0].field).toBe("params.address");
  });

  it("needs an API key", async () => {
    expect((await app.inject({ method: "GET", url: "/v1/suppressions" })).statusCode).toBe(401);
  });
});

describe("the admin API and the CLI", () => {
  it("manage any domain's list; the CLI's --json documents are the admin API's", async () => {
    const viaAdmin = await admin("POST", "/v1/admin/domains/other.test/suppressions", { address: "zed@remote.example" });
    expect(viaAdmin.statusCode, viaAdmin.body).toBe(201);
    const r = await runCli(["suppression", "add", "yan@remote.example", "--domain", "other.test", "--detail", "cli", "--json"], infra.env);
    expect(r.code, r.stderr).toBe(0);
    const cliDoc = r.json().suppression;
    const listed = (await admin("GET", "/v1/admin/domains/other.test/suppressions")).json().data;
    expect(listed.find((e: any) => e.address === "yan@remote.example")).toEqual(cliDoc);
    const cliList = await runCli(["suppression", "list", "--domain", "other.test", "--json"], infra.env);
    expect(cliList.json()).toEqual({ data: listed, next_cursor: null });
    const exported = await runCli(["suppression", "export", "--domain", "other.test"], infra.env);
    expect(exported.stdout.split("\r\n")[0]).toBe("address,reason,detail,created_at,message_id");
    expect(exported.stdout).toContain("yan@remote.example,manual,cli,");
    // The HTTP API's key sees only its own domain's list.
    expect((await http("GET", "/v1/suppressions/zed@remote.example")).statusCode).toBe(404);
    const unknown = await admin("GET", "/v1/admin/domains/nowhere.test/suppressions");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].field).toBe("params.domain");
    const badFlag = await runCli(["suppression", "list", "--domain", "other.test", "--reasn", "manual"], infra.env);
    expect(badFlag.code).toBe(2);
  });
});

describe("test mode", () => {
  it("creates and shows the flag (admin API, CLI) and marks the key's messages `test` in the status API", async () => {
    const created = await admin("POST", "/v1/admin/api-keys", { domain: "example.test", test_mode: true });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().api_key.test_mode).toBe(true);
    const shown = await admin("GET", `/v1/admin/api-keys/${created.json().api_key.key_id}`);
    expect(shown.json().api_key).toMatchObject({ test_mode: true, domain: "example.test" });
    const cli = await runCli(["apikey", "create", "--domain", "example.test", "--test", "--json"], infra.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.json().api_key.test_mode).toBe(true);
    const cliShow = await runCli(["apikey", "show", cli.json().api_key.key_id, "--json"], infra.env);
    expect(cliShow.code, cliShow.stderr).toBe(0);
    expect(cliShow.json().api_key).toMatchObject({ key_id: cli.json().api_key.key_id, test_mode: true });
    expect(cliShow.json().api_key.token).toBeUndefined();

    const sent = await call(testKey)("POST", "/v1/messages", { from: "ana@example.test", to: "dave@remote.example", subject: "t", text: "t" });
    expect(sent.statusCode).toBe(202);
    expect((await call(testKey)("GET", `/v1/messages/${sent.json().id}`)).json().test).toBe(true);
  });
});
