import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDomain } from "@correo/directory";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { runCli } from "./run-cli.js";

/** `correo template …` as an operator runs it: the built CLI on this suite's own database. */
let infra: IsolatedInfra;
const correo = (args: string[], input?: string) => runCli(args, infra.env, input);

beforeAll(async () => {
  infra = await isolatedInfra("cli-template");
  await addDomain(infra.pool, "example.test");
});
afterAll(async () => {
  await infra?.cleanup();
});

describe("correo template", () => {
  it("adds a template from flags and a file on standard input, and shows it (--json: the admin API's document)", async () => {
    const r = await correo(["template", "add", "example.test", "welcome", "--subject", "Hi {{first_name}}", "--html-file", "-", "--text", "Hi {{first_name}}", "--json"], "<p>Hi {{first_name}}</p>\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().template).toMatchObject({ name: "welcome", domain: "example.test", subject: "Hi {{first_name}}", text: "Hi {{first_name}}", html: "<p>Hi {{first_name}}</p>\n" });
    const shown = await correo(["template", "show", "example.test", "welcome", "--json"]);
    expect(shown.json()).toEqual(r.json());
    const listed = await correo(["template", "list", "example.test"]);
    expect(listed.stdout).toMatch(/^NAME\s+SUBJECT\s+PARTS\s+UPDATEDAT\nwelcome\s+Hi \{\{first_name\}\}\s+text\+html\s/);
  });

  it("refuses a template that does not compile (exit 1, naming the part) and stores nothing", async () => {
    const r = await correo(["template", "add", "example.test", "broken", "--subject", "s", "--text", "{{#if x}}open", "--json"]);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe("invalid");
    expect(r.json().error.message).toMatch(/^template\.text does not compile: /);
    expect((await correo(["template", "show", "example.test", "broken"])).code).toBe(1);
  });

  it("previews with --variables, HTML-escaping the html part only; a missing variable is named (exit 1)", async () => {
    const r = await correo(["template", "preview", "example.test", "welcome", "--variables", '{"first_name":"<Ana>"}', "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ subject: "Hi <Ana>", text: "Hi <Ana>", html: "<p>Hi &lt;Ana&gt;</p>\n" });
    const missing = await correo(["template", "preview", "example.test", "welcome", "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.json().error.message).toBe("variables.first_name is used by the template (subject, line 1, column 6) but not given");
  });

  it("updates one part, removes another with --no-text, and refuses removing both", async () => {
    const r = await correo(["template", "update", "example.test", "welcome", "--subject", "Hello {{first_name}}", "--no-text", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().template).toMatchObject({ subject: "Hello {{first_name}}", text: null });
    const both = await correo(["template", "update", "example.test", "welcome", "--no-html", "--json"]);
    expect(both.code).toBe(1);
    expect(both.json().error.message).toBe("a template needs text or html: this change would leave neither");
  });

  it("refuses usage mistakes with exit 2: no --subject, an unknown flag, bad JSON variables", async () => {
    expect((await correo(["template", "add", "example.test", "x", "--text", "t"])).code).toBe(2);
    expect((await correo(["template", "add", "example.test", "x", "--subject", "s", "--txt", "t"])).code).toBe(2);
    const bad = await correo(["template", "preview", "example.test", "welcome", "--variables", "{nope", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.json().error.message).toMatch(/^the variables are not JSON: /);
  });

  it("removes a template; removing it again is not found (exit 1)", async () => {
    expect((await correo(["template", "remove", "example.test", "welcome", "--json"])).json()).toEqual({ removed: "welcome", domain: "example.test" });
    const again = await correo(["template", "remove", "example.test", "welcome", "--json"]);
    expect(again.code).toBe(1);
    expect(again.json().error).toEqual({ code: "not_found", message: "domain example.test has no template 'welcome'" });
  });
});
