import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { runCli } from "./run-cli.js";

/** `correo route …` as an operator runs it: tables, --json with the admin API's documents, precise refusals. */
let infra: IsolatedInfra;
const cli = (...args: string[]) => runCli(args, infra.env);

beforeAll(async () => {
  infra = await isolatedInfra("cli-route");
  expect((await cli("domain", "add", "example.test")).code).toBe(0);
  expect((await cli("account", "add", "helpdesk@example.test", "--password", "long enough pass")).code).toBe(0);
});
afterAll(async () => {
  await infra?.cleanup();
});

describe("correo route", () => {
  it("adds a route, printing its signing secret once, and finds the owning domain of a subdomain pattern", async () => {
    const added = await cli("route", "add", "*@in.example.test", "https://app.test/in", "--inline-limit", "256K", "--give-up", "2h", "--fallback", "mailbox:helpdesk@example.test", "--json");
    expect(added.code).toBe(0);
    expect(added.json().inbound_route).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      domain: "example.test",
      pattern: "*@in.example.test",
      url: "https://app.test/in",
      inline_limit_bytes: 256 * 1024,
      give_up_after_seconds: 7200,
      fallback: "mailbox:helpdesk@example.test",
      secret: expect.stringMatching(/^whsec_/),
      created_at: expect.any(String),
    });
    const plain = await cli("route", "add", "support@example.test", "https://app.test/support");
    expect(plain.stdout).toMatch(/^route [0-9a-f-]{36}: mail for support@example\.test is POSTed to https:\/\/app\.test\/support\nsigning secret \(shown once\): whsec_\S+\n$/);

    const list = await cli("route", "list", "--json");
    expect(list.json().inbound_routes.map((r: any) => [r.pattern, r.secret])).toEqual([["*@in.example.test", undefined], ["support@example.test", undefined]]);
    const table = (await cli("route", "list")).stdout.split("\n");
    expect(table[0]).toMatch(/^ID\s+PATTERN\s+URL\s+INLINE\s+GIVEUP\s+FALLBACK$/);

    const id = added.json().inbound_route.id;
    const rotated = await cli("route", "update", id, "--url", "https://app.test/in2", "--rotate-secret", "--json");
    expect(rotated.json().inbound_route).toMatchObject({ url: "https://app.test/in2", give_up_after_seconds: 7200, secret: expect.stringMatching(/^whsec_/) });
    expect(rotated.json().inbound_route.secret).not.toBe(added.json().inbound_route.secret);
    expect(await cli("route", "update", id)).toMatchObject({ code: 2, stderr: expect.stringMatching(/nothing to change/) });
    expect((await cli("route", "show", id, "--json")).json().inbound_route).not.toHaveProperty("secret");
    expect(await cli("route", "remove", id)).toMatchObject({ code: 0, stdout: `route ${id} (*@in.example.test) removed\n` });
    expect(await cli("route", "remove", id)).toMatchObject({ code: 1, stderr: `correo: inbound route ${id} does not exist\n` });
  });

  it("refuses bad input with exit 1 (the directory's reason) or 2 (usage), and unknown flags", async () => {
    expect(await cli("route", "add", "*@elsewhere.test", "https://app.test/")).toMatchObject({ code: 1, stderr: expect.stringMatching(/no hosted domain holds \*@elsewhere\.test/) });
    expect(await cli("route", "add", "a@example.test", "gopher://app.test/")).toMatchObject({ code: 1, stderr: expect.stringMatching(/must be http or https/) });
    expect(await cli("route", "add", "a@example.test", "https://app.test/", "--give-up", "soon")).toMatchObject({ code: 2, stderr: expect.stringMatching(/--give-up 'soon' is not a duration/) });
    expect(await cli("route", "add", "a@example.test", "https://app.test/", "--fallback", "forward")).toMatchObject({ code: 1, stderr: expect.stringMatching(/fallback 'forward' must be 'bounce' or 'mailbox:<address>'/) });
    expect(await cli("route", "add", "a@example.test")).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing <url>/) });
    expect((await cli("route", "add", "a@example.test", "https://app.test/", "--fallbak", "bounce")).code).toBe(2);
    const dup = await cli("route", "add", "SUPPORT@example.test", "https://app.test/x", "--json");
    expect(dup).toMatchObject({ code: 1 });
    expect(dup.json()).toEqual({ error: { code: "duplicate", message: "a route for support@example.test already exists" } });
  });
});
