import { describe, expect, it } from "vitest";
import { compileTemplate, renderTemplate, type TemplateSource } from "../src/render.js";

function render(src: TemplateSource, variables: Record<string, unknown>) {
  const c = compileTemplate(src);
  if (!c.ok) throw new Error(JSON.stringify(c.errors));
  return renderTemplate(c.template, variables);
}

describe("template rendering and escaping", () => {
  const table: { what: string; src: TemplateSource; variables: Record<string, unknown>; subject: string; text?: string; html?: string }[] = [
    {
      what: "HTML-escapes {{x}} in the html part only",
      src: { subject: "Hi {{name}}", text: "Hi {{name}}", html: "<p>Hi {{name}}</p>" },
      variables: { name: `Tom & "Jerry" <b>'s` },
      subject: `Hi Tom & "Jerry" <b>'s`,
      text: `Hi Tom & "Jerry" <b>'s`,
      html: "<p>Hi Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#x27;s</p>",
    },
    {
      what: "prints {{{x}}} unescaped in html, on purpose",
      src: { subject: "s", html: "<div>{{{snippet}}}</div>" },
      variables: { snippet: "<b>bold</b>" },
      subject: "s",
      html: "<div><b>bold</b></div>",
    },
    {
      what: "reads nested variables and loops with #each",
      src: { subject: "Order {{order.id}}", text: "{{#each order.items}}- {{name}} x{{qty}}\n{{/each}}" },
      variables: { order: { id: 42, items: [{ name: "tea", qty: 2 }, { name: "café", qty: 1 }] } },
      subject: "Order 42",
      text: "- tea x2\n- café x1\n",
    },
    {
      what: "lets a variable only tested by #if be left out",
      src: { subject: "{{#if vip}}[VIP] {{/if}}Hello", text: "x" },
      variables: {},
      subject: "Hello",
      text: "x",
    },
    {
      what: "does not read the prototype (constructor, __proto__)",
      src: { subject: "[{{constructor}}][{{__proto__}}]", text: "x" },
      variables: {},
      subject: "[][]",
      text: "x",
    },
  ];
  for (const row of table) {
    it(row.what, () => {
      const r = render(row.src, row.variables);
      expect(r).toEqual({ ok: true, rendered: { subject: row.subject, ...(row.text !== undefined && { text: row.text }), ...(row.html !== undefined && { html: row.html }) } });
    });
  }

  it("names a missing variable as variables.<path>, once, with the part and place it is used", () => {
    const r = render({ subject: "Hi {{first_name}}", text: "Dear {{first_name}},\n{{user.city}}", html: "<p>{{first_name}}</p>" }, { user: {} });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.field)).toEqual(["variables.first_name", "variables.user.city"]);
    expect(r.errors[0]!.message).toBe("is used by the template (subject, line 1, column 6) but not given");
    expect(r.errors[1]!.message).toBe("is used by the template (text, line 2, column 3) but not given");
  });

  it("refuses CR or LF in the rendered subject, naming the variable (header injection)", () => {
    const r = render({ subject: "Hi {{name}}", text: "x" }, { name: "x\r\nBcc: victim@example.com" });
    expect(r).toEqual({
      ok: false,
      errors: [{ field: "variables.name", message: "would put CR, LF or NUL into the Subject header (RFC 5322 §2.2); header injection is refused" }],
    });
  });

  it("lets CR/LF through in text and html, where they are content", () => {
    const r = render({ subject: "s", text: "{{a}}", html: "{{a}}" }, { a: "one\r\ntwo" });
    expect(r).toEqual({ ok: true, rendered: { subject: "s", text: "one\r\ntwo", html: "one\r\ntwo" } });
  });
});

describe("template compilation", () => {
  const bad: { what: string; src: TemplateSource; field: string; message: RegExp }[] = [
    { what: "an unclosed block", src: { subject: "s", html: "{{#if a}}x" }, field: "body.html", message: /^does not compile: .*Expecting 'OPEN_INVERSE_CHAIN'|does not compile: if doesn't match|does not compile: Parse error/ },
    { what: "an unclosed mustache", src: { subject: "Hi {{name", text: "x" }, field: "body.subject", message: /^does not compile: Parse error on line 1/ },
    { what: "an unknown helper", src: { subject: "s", text: "{{shout name}}" }, field: "body.text", message: /^does not compile: You specified knownHelpersOnly, but used the unknown helper shout$/ },
    { what: "a partial", src: { subject: "s", text: "{{> footer}}" }, field: "body.text", message: /^does not compile: partials and decorators are not supported \(text, line 1, column 1\)$/ },
  ];
  for (const row of bad) {
    it(`refuses ${row.what}, naming the part`, () => {
      const c = compileTemplate(row.src);
      expect(c.ok).toBe(false);
      if (c.ok) return;
      expect(c.errors).toHaveLength(1);
      expect(c.errors[0]!.field).toBe(row.field);
      expect(c.errors[0]!.message).toMatch(row.message);
    });
  }
});

describe("template rendering: helper arguments", () => {
  it("names the missing parent of a helper's argument ({{#each order.items}} without order) as variables.order", () => {
    const r = render({ subject: "s", text: "Hi {{name}}: {{#each order.items}}{{this}};{{/each}}" }, { name: "Bo" });
    expect(r).toEqual({ ok: false, errors: [{ field: "variables.order", message: "is used by the template (text, line 1, column 22) but not given" }] });
  });

  it("lets the argument itself be left out when its parent is given ({{#each order.items}} with order: {})", () => {
    const r = render({ subject: "s", text: "{{#each order.items}}{{this}};{{/each}}" }, { order: {} });
    expect(r).toEqual({ ok: true, rendered: { subject: "s", text: "" } });
  });
});
