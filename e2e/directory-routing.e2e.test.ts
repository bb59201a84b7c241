import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, repoRoot } from "@correo/testkit";
import { startDnsmasq, type Dnsmasq } from "../packages/mx/test/dnsmasq.js";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * The directory and routing, as an operator and a sender meet them: `pnpm correo` and
 * the admin API manage domains, accounts, aliases and keys; a message to an alias, a
 * +tag and an alias domain lands in the right mailboxes, a forward goes to the partner's
 * MX found through a real DNS server (dnsmasq), and every decision is on the timeline.
 */
let correo: Correo;
let dnsmasq: Dnsmasq;
let adminKey: string;
let apiKey: string;
const run = promisify(execFile);

/** The CLI as a user runs it, without --json: exit code, stdout, stderr. */
async function correoCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), ...args], {
      env: { ...process.env, ...correo.env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function admin(method: string, path: string, body?: unknown, key = adminKey) {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  dnsmasq = await startDnsmasq({ mx: { "partner.test": [["mx.partner.test", 10]] }, a: { "mx.partner.test": ["127.0.0.41"] } });
  // The harness passes its own environment on to `pnpm start`: routing and relay use this resolver.
  process.env.DNS_SERVERS = dnsmasq.server;
  correo = await startCorreo("e2e-directory");
  delete process.env.DNS_SERVERS;
  adminKey = (await correo.cli(["adminkey", "create", "--description", "e2e"])).admin_key.token;
});

afterAll(async () => {
  await correo?.stop();
  await dnsmasq?.stop();
});

describe("pnpm correo", () => {
  it("manages domains, accounts and aliases with tables, --json and clear errors", async () => {
    expect(await correoCli(["domain", "add", "correo.españa.test"])).toMatchObject({ code: 0, stdout: "domain correo.xn--espaa-rta.test (correo.españa.test) added\n" });
    const dup = await correoCli(["domain", "add", "CORREO.xn--espaa-rta.test"]);
    expect(dup).toMatchObject({ code: 1, stderr: "correo: domain correo.xn--espaa-rta.test already exists\n" });
    const dupJson = await correoCli(["domain", "add", "correo.españa.test", "--json"]);
    expect(JSON.parse(dupJson.stdout)).toEqual({ error: { code: "duplicate", message: "domain correo.xn--espaa-rta.test already exists" } });
    expect(await correoCli(["account", "add", "ana@nowhere.test", "--password", "long enough"])).toMatchObject({ code: 1, stderr: expect.stringMatching(/nowhere\.test is not hosted here/) });
    expect(await correoCli(["alias", "add", "x@correo.españa.test"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing <target>/) });

    await correoCli(["account", "add", "josé@correo.españa.test", "--password", "long enough", "--quota", "10M"]);
    expect((await correoCli(["alias", "add", "equipo@correo.españa.test", "josé@correo.españa.test", "amigo@partner.test"])).stdout).toBe(
      "alias equipo@correo.xn--espaa-rta.test → josé@correo.xn--espaa-rta.test, amigo@partner.test\n",
    );
    const table = (await correoCli(["alias", "list"])).stdout.split("\n");
    expect(table[0]).toMatch(/^ADDRESS\s+TARGETS\s+CREATEDAT$/);
    expect(table[1]).toMatch(/^equipo@correo\.xn--espaa-rta\.test\s+josé@correo\.xn--espaa-rta\.test, amigo@partner\.test\s+\d{4}-/);
    const accounts = JSON.parse((await correoCli(["account", "list", "--json"])).stdout).accounts;
    expect(accounts).toEqual([expect.objectContaining({ address: "josé@correo.xn--espaa-rta.test", quota_bytes: 10 * 1024 * 1024, enabled: true })]);
  });
});

describe("the admin API", () => {
  it("refuses requests without an admin key, and domain API keys", async () => {
    expect((await admin("GET", "/v1/admin/domains", undefined, "nope")).status).toBe(401);
    await correo.cli(["domain", "add", "keys.test"]);
    const domainKey = (await correo.cli(["apikey", "create", "--domain", "keys.test"])).api_key.token;
    const r = await admin("GET", "/v1/admin/domains", undefined, domainKey);
    expect(r).toMatchObject({ status: 401, type: expect.stringMatching(/^application\/problem\+json/) });
  });

  it("mirrors the CLI, with problem+json naming the field at fault", async () => {
    expect(await admin("POST", "/v1/admin/domains", { name: "example.test" })).toMatchObject({ status: 201, body: { domain: { name: "example.test", catch_all: null } } });
    const dup = await admin("POST", "/v1/admin/domains", { name: "Example.TEST" });
    expect(dup).toMatchObject({ status: 409, type: expect.stringMatching(/^application\/problem\+json/), body: { errors: [{ field: "body.name" }] } });
    expect((await admin("POST", "/v1/admin/domains", { name: "x.test", colour: "red" })).body.errors).toEqual([{ field: "body.colour", message: "is not a known field" }]);
    expect(await admin("POST", "/v1/admin/domain-aliases", { name: "example-alias.test", domain: "example.test" })).toMatchObject({ status: 201 });
    expect(await admin("POST", "/v1/admin/accounts", { address: "ana@example.test", password: "ana-secret-1" })).toMatchObject({ status: 201, body: { account: { address: "ana@example.test", enabled: true } } });
    expect(await admin("POST", "/v1/admin/accounts", { address: "bea@example.test", password: "bea-secret-1", quota_bytes: 1048576 })).toMatchObject({ status: 201 });
    const badTarget = await admin("POST", "/v1/admin/aliases", { address: "team@example.test", targets: ["ana@example.test", "not an address"] });
    expect(badTarget).toMatchObject({ status: 400, body: { errors: [{ field: "body.targets[1]" }] } });
    const unknown = await admin("POST", "/v1/admin/accounts", { address: "zoe@unknown.test", password: "long enough" });
    expect(unknown).toMatchObject({ status: 404, body: { errors: [{ field: "body.address" }] } });
    expect(await admin("POST", "/v1/admin/aliases", { address: "team@example.test", targets: ["ana@example.test", "BEA@example.test", "friend@partner.test"] })).toMatchObject({ status: 201 });
    expect(await admin("PATCH", "/v1/admin/accounts/bea@example.test", { enabled: false })).toMatchObject({ status: 200, body: { account: { enabled: false } } });
    expect(await admin("PATCH", "/v1/admin/accounts/bea@example.test", { enabled: true })).toMatchObject({ status: 200 });
    expect(await admin("PUT", "/v1/admin/domains/example.test/catch-all", { address: "ana@example.test" })).toMatchObject({ status: 200, body: { domain: { catch_all: "ana@example.test" } } });
    const created = await admin("POST", "/v1/admin/api-keys", { domain: "example.test", description: "e2e" });
    expect(created).toMatchObject({ status: 201, body: { api_key: { domain: "example.test", token: expect.stringMatching(/^correo_/) } } });
    apiKey = created.body.api_key.token;
    expect((await admin("GET", "/v1/admin/aliases?domain=example.test")).body.aliases).toEqual([
      expect.objectContaining({ address: "team@example.test", targets: ["ana@example.test", "BEA@example.test", "friend@partner.test"] }),
    ]);
    // What the API wrote, the CLI reads.
    expect((await correo.cli(["domain", "list"])).domains.find((d: any) => d.name === "example.test")).toMatchObject({ catch_all: "ana@example.test", alias_domains: ["example-alias.test"], accounts: 2 });
  });
});

describe("routing", () => {
  it("expands aliases, honours +tags, alias domains and the catch-all, forwards via MX, and shows every decision", async () => {
    const sent = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        from: "ana@example.test",
        to: ["team@example.test", "Bea+Invoices@example-alias.test", "whoever@example.test"],
        subject: "Routing",
        text: "hola",
      }),
    });
    expect(sent.status).toBe(202);
    const id = ((await sent.json()) as any).id;
    const doc = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const d = (await res.json()) as any;
      const by = Object.fromEntries(d.recipients.map((r: any) => [r.address, r]));
      const done = ["ana@example.test", "BEA@example.test", "Bea+Invoices@example-alias.test"].every((a) => by[a]?.status === "delivered");
      return done && by["friend@partner.test"]?.events.some((e: any) => e.event === "routed") ? by : undefined;
    }, 45_000, "alias targets delivered");
    expect(doc["team@example.test"]).toMatchObject({ status: "delivered", last_response: expect.stringMatching(/^250 2\.1\.5 expanded by alias team@example\.test to /) });
    expect(doc["whoever@example.test"].last_response).toMatch(/expanded by catch-all of example\.test/);
    expect(doc["friend@partner.test"].events.map((e: any) => e.detail)).toContain("remote domain partner.test via mx mx.partner.test[127.0.0.41]:1");
    // ana got the message once, though the alias and the catch-all both lead to her.
    expect(Object.keys(doc).filter((a) => a.toLowerCase() === "ana@example.test")).toHaveLength(1);
    // Read back with a real POP3 client: bea has the alias copy and the +tag copy, ana one.
    expect((await pop3(correo, "bea@example.test", "bea-secret-1", "list")).stat[0]).toBe(2);
    expect((await pop3(correo, "ana@example.test", "ana-secret-1", "list")).stat[0]).toBe(1);
  });
});
