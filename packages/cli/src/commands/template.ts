import { readFileSync } from "node:fs";
import { DirectoryError } from "@correo/directory";
import {
  compileTemplate,
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  renderTemplate,
  TEMPLATE_NAME_PATTERN,
  TEMPLATE_NAME_RULE,
  templateDoc,
  updateTemplate,
  type StoredTemplate,
  type TemplateFieldError,
} from "@correo/templates";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command, type CommandContext, type FlagSpec } from "./types.js";

// The same checks as the admin API (/v1/admin/domains/:domain/templates): a template that
// does not compile is refused, a preview without a variable names it.

const refusal = (errors: TemplateFieldError[]) => new DirectoryError("invalid", errors.map((e) => `${e.field} ${e.message}`).join("; "));

/** --<part> <source> or --<part>-file <path> ('-': standard input); undefined when neither. */
function sourceOf(ctx: CommandContext, part: "subject" | "text" | "html"): string | undefined {
  const inline = flag(ctx, part);
  const file = flag(ctx, `${part}-file`);
  if (inline !== undefined && file !== undefined) throw new UsageError(`give --${part} or --${part}-file, not both`);
  if (file === undefined) return inline;
  return readFileSync(file === "-" ? 0 : file, "utf8");
}

const partFlags = (verb: string): Record<string, FlagSpec> => ({
  subject: { type: "string", value: "<source>", help: `the Subject's Handlebars source (one line, not HTML-escaped)${verb === "add" ? ", required" : ""}` },
  "subject-file": { type: "string", value: "<path>", help: "read the subject from a file ('-': standard input)" },
  text: { type: "string", value: "<source>", help: "the plain-text part's source (not escaped)" },
  "text-file": { type: "string", value: "<path>", help: "read the text part from a file ('-': standard input)" },
  html: { type: "string", value: "<source>", help: "the HTML part's source ({{x}} is HTML-escaped, {{{x}}} is not)" },
  "html-file": { type: "string", value: "<path>", help: "read the HTML part from a file ('-': standard input)" },
});

const human = (t: StoredTemplate) =>
  `template ${t.name} of ${t.domain}\nsubject: ${t.subject}\n--- text\n${t.text ?? "(none)"}\n--- html\n${t.html ?? "(none)"}\n`;

export const templateCommands: Record<string, Command> = {
  add: {
    usage: "template add <domain> <name> --subject <source> [--text <source> | --text-file <path>] [--html <source> | --html-file <path>]",
    summary: "store a Handlebars template (subject and text and/or html) for POST /v1/messages with template",
    flags: partFlags("add"),
    async run(ctx) {
      const domain = arg(ctx, 0, "domain");
      const name = arg(ctx, 1, "name");
      const subject = sourceOf(ctx, "subject");
      if (subject === undefined) throw new UsageError("missing --subject");
      if (/[\r\n]/.test(subject.replace(/\r?\n$/, ""))) throw new UsageError("the subject is one line");
      const src = { name, subject: subject.replace(/\r?\n$/, ""), text: sourceOf(ctx, "text"), html: sourceOf(ctx, "html") };
      if (src.text === undefined && src.html === undefined) throw new UsageError("a template needs --text or --html (or both)");
      if (!new RegExp(TEMPLATE_NAME_PATTERN).test(name)) throw new UsageError(`<name> is ${TEMPLATE_NAME_RULE}`);
      const compiled = compileTemplate(src, "template");
      if (!compiled.ok) throw refusal(compiled.errors);
      const t = await createTemplate(ctx.pool, domain, src);
      ctx.out.result({ template: templateDoc(t) }, () => `template ${t.name} added to ${t.domain}\n`);
    },
  },
  list: {
    usage: "template list <domain>",
    summary: "list a domain's templates",
    flags: {},
    async run(ctx) {
      const templates = await listTemplates(ctx.pool, arg(ctx, 0, "domain"));
      const rows = templates.map((t) => ({ ...t, parts: [t.text !== null && "text", t.html !== null && "html"].filter(Boolean).join("+") }));
      ctx.out.result({ templates: templates.map(templateDoc) }, () => table(rows, ["name", "subject", "parts", "updatedAt"]));
    },
  },
  show: {
    usage: "template show <domain> <name>",
    summary: "print a template's source",
    flags: {},
    async run(ctx) {
      const t = await getTemplate(ctx.pool, arg(ctx, 0, "domain"), arg(ctx, 1, "name"));
      ctx.out.result({ template: templateDoc(t) }, () => human(t));
    },
  },
  update: {
    usage: "template update <domain> <name> [--subject …] [--text … | --text-file …] [--html … | --html-file …] [--no-text] [--no-html]",
    summary: "replace parts of a template (the others stay)",
    flags: {
      ...partFlags("update"),
      "no-text": { type: "boolean", help: "remove the text part" },
      "no-html": { type: "boolean", help: "remove the HTML part" },
    },
    async run(ctx) {
      const domain = arg(ctx, 0, "domain");
      const name = arg(ctx, 1, "name");
      const change: { subject?: string; text?: string | null; html?: string | null } = {};
      const subject = sourceOf(ctx, "subject");
      if (subject !== undefined) change.subject = subject.replace(/\r?\n$/, "");
      for (const part of ["text", "html"] as const) {
        const v = sourceOf(ctx, part);
        if (v !== undefined && ctx.flags[`no-${part}`]) throw new UsageError(`give --${part} or --no-${part}, not both`);
        if (v !== undefined) change[part] = v;
        if (ctx.flags[`no-${part}`]) change[part] = null;
      }
      if (Object.keys(change).length === 0) throw new UsageError("nothing to change: give --subject, --text, --html, --no-text or --no-html");
      const compiled = compileTemplate({ subject: change.subject ?? "x", text: change.text, html: change.html }, "template");
      if (!compiled.ok) throw refusal(compiled.errors);
      const t = await updateTemplate(ctx.pool, domain, name, change);
      ctx.out.result({ template: templateDoc(t) }, () => `template ${t.name} of ${t.domain} updated\n`);
    },
  },
  remove: {
    usage: "template remove <domain> <name>",
    summary: "delete a template",
    flags: {},
    async run(ctx) {
      const domain = arg(ctx, 0, "domain");
      const name = arg(ctx, 1, "name");
      await deleteTemplate(ctx.pool, domain, name);
      ctx.out.result({ removed: name, domain }, () => `template ${name} removed from ${domain}\n`);
    },
  },
  preview: {
    usage: "template preview <domain> <name> [--variables <json> | --variables-file <path>]",
    summary: "render a template with variables, sending nothing",
    flags: {
      variables: { type: "string", value: "<json>", help: 'the variables as a JSON object: \'{"first_name":"Ana"}\'' },
      "variables-file": { type: "string", value: "<path>", help: "read the variables' JSON from a file ('-': standard input)" },
    },
    async run(ctx) {
      const t = await getTemplate(ctx.pool, arg(ctx, 0, "domain"), arg(ctx, 1, "name"));
      const inline = flag(ctx, "variables");
      const file = flag(ctx, "variables-file");
      if (inline !== undefined && file !== undefined) throw new UsageError("give --variables or --variables-file, not both");
      const text = file !== undefined ? readFileSync(file === "-" ? 0 : file, "utf8") : (inline ?? "{}");
      let variables: unknown;
      try {
        variables = JSON.parse(text);
      } catch (err) {
        throw new UsageError(`the variables are not JSON: ${(err as Error).message}`);
      }
      if (!variables || typeof variables !== "object" || Array.isArray(variables)) throw new UsageError("the variables must be a JSON object");
      const compiled = compileTemplate(t, "template");
      if (!compiled.ok) throw refusal(compiled.errors);
      const r = renderTemplate(compiled.template, variables as Record<string, unknown>);
      if (!r.ok) throw refusal(r.errors);
      const doc = { subject: r.rendered.subject, text: r.rendered.text ?? null, html: r.rendered.html ?? null };
      ctx.out.result(doc, () => `subject: ${doc.subject}\n--- text\n${doc.text ?? "(none)"}\n--- html\n${doc.html ?? "(none)"}\n`);
    },
  },
};
