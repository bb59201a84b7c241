import Handlebars from "handlebars";

/**
 * Message templates: Handlebars (the mustache syntax plus #if/#each/#with/#unless),
 * compiled in an environment of their own with no partials and no helpers beyond the
 * built-in ones, so a template can neither read files nor run code of its author's.
 *
 * - html: `{{x}}` is HTML-escaped (& < > " ' ` =); `{{{x}}}` prints it as given, on purpose.
 * - subject and text: nothing is escaped, since entities would corrupt plain text.
 *   The subject is a header field: a rendered subject with CR, LF or NUL is refused
 *   (RFC 5322 §2.2: a field body has none; a CRLF would start a header of the sender's
 *   choosing), naming the variable that brought it.
 * - strict: a variable the template prints but the request does not give is a 400
 *   naming it (`variables.first_name`); one that is only tested (#if, #unless) may be
 *   left out.
 */

/** A field at fault, as the HTTP APIs' problem+json names it (`variables.first_name`, `body.html`). */
export interface TemplateFieldError {
  field: string;
  message: string;
}
type FieldError = TemplateFieldError;

export const TEMPLATE_PARTS = ["subject", "text", "html"] as const;
export type TemplatePart = (typeof TEMPLATE_PARTS)[number];

export interface TemplateSource {
  subject: string;
  text?: string | null;
  html?: string | null;
}

export interface Rendered {
  subject: string;
  text?: string;
  html?: string;
}

type Variables = Record<string, unknown>;
type AstNode = { type: string; loc?: { start: { line: number; column: number } }; original?: string; [k: string]: unknown };

interface CompiledPart {
  part: TemplatePart;
  render: (variables: Variables) => string;
  ast: AstNode;
}

export interface CompiledTemplate {
  parts: CompiledPart[];
}

const env = Handlebars.create();
type HbsInput = Parameters<typeof env.precompile>[0];

const optionsFor = (part: TemplatePart) => ({ strict: true, knownHelpersOnly: true, noEscape: part !== "html" });

/** Every node of a Handlebars AST, depth first. */
function* walk(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const n of node) yield* walk(n);
    return;
  }
  if (!node || typeof node !== "object" || typeof (node as AstNode).type !== "string") return;
  yield node as AstNode;
  for (const [k, v] of Object.entries(node)) if (k !== "loc") yield* walk(v);
}

const where = (part: TemplatePart, line?: number, column?: number) =>
  line === undefined ? part : `${part}, line ${line}, column ${(column ?? 0) + 1}`;

/**
 * Compiles a template's parts, or says which part does not compile and why (the
 * caller's field names: `body.subject`, `body.html`, …). Handlebars compiles lazily,
 * so each part is precompiled here to meet every error now, not at the first send.
 */
export function compileTemplate(src: TemplateSource, fieldPrefix = "body"): { ok: true; template: CompiledTemplate } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const parts: CompiledPart[] = [];
  for (const part of TEMPLATE_PARTS) {
    const text = src[part];
    if (text === undefined || text === null) continue;
    const field = `${fieldPrefix}.${part}`;
    try {
      const ast = env.parse(text) as unknown as AstNode;
      const unsupported = [...walk(ast)].find((n) => n.type === "PartialStatement" || n.type === "PartialBlockStatement" || n.type === "DecoratorBlock" || n.type === "Decorator");
      if (unsupported) {
        const loc = unsupported.loc?.start;
        errors.push({ field, message: `does not compile: partials and decorators are not supported (${where(part, loc?.line, loc?.column)})` });
        continue;
      }
      env.precompile(ast as unknown as HbsInput, optionsFor(part));
      parts.push({ part, ast, render: env.compile(ast as unknown as HbsInput, optionsFor(part)) });
    } catch (err) {
      const message = (err as Error).message.replace(/\s*-\s*\d+:\d+$/, "").replace(/\n/g, " ");
      errors.push({ field, message: `does not compile: ${message}` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, template: { parts } };
}

/** The variable (a path as written: `user.name`) that the template uses at line:column of one part. */
function pathAt(ast: AstNode, line: number, column: number): string | undefined {
  for (const n of walk(ast)) {
    if (n.type === "PathExpression" && n.loc?.start.line === line && n.loc.start.column === column) return n.original;
  }
  return undefined;
}

/** How many missing variables one answer names at most, per part. */
const MAX_MISSING_NAMED = 50;

/**
 * A helper's argument (`{{#each order.items}}`) is looked up without strict mode's
 * check, so a missing `order` surfaces as JavaScript's "Cannot read properties of
 * undefined (reading 'items')", without a place: the path is found in the AST, the
 * first one through `items` whose parent the variables lack.
 */
function parentMissing(ast: AstNode, vars: Variables, e: Error): { path: string; line?: number; column?: number } | undefined {
  const reading = e instanceof TypeError ? /reading '([^']+)'/.exec(e.message)?.[1] : undefined;
  if (reading === undefined) return undefined;
  for (const n of walk(ast)) {
    const parts = n.type === "PathExpression" && !n.depth ? (n.parts as string[] | undefined) : undefined;
    if (!parts) continue;
    for (let k = 1; k < parts.length; k++) {
      const parent = parts.slice(0, k).join(".");
      if (parts[k] === reading && valueAt(vars, parent) == null) return { path: parent, line: n.loc?.start.line, column: n.loc?.start.column };
    }
  }
  return undefined;
}

/** Sets a missing `path` to `value` in `vars` (a copy), creating the objects on the way; false where it cannot. */
function fillIn(vars: Variables, path: string, value: unknown = ""): boolean {
  const segs = path.split(/[./]/);
  let v: Record<string, unknown> = vars;
  for (const seg of segs.slice(0, -1)) {
    const next = Object.hasOwn(v, seg) ? v[seg] : (v[seg] = {});
    if (!next || typeof next !== "object") return false;
    v = next as Record<string, unknown>;
  }
  const last = segs.at(-1)!;
  if (Object.hasOwn(v, last) && v[last] != null) return false;
  v[last] = value;
  return true;
}

/** Top-level lookup of a path as written (`user.name`), for the subject's CR/LF check. */
function valueAt(variables: Variables, path: string): unknown {
  let v: unknown = variables;
  for (const seg of path.split(/[./]/)) {
    if (!v || typeof v !== "object" || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/**
 * Renders a compiled template with the request's variables, or returns the field
 * errors a 400 names: `variables.<path>` for a missing variable or one that would put
 * CR/LF into the subject (`field` is where the request carries the variables).
 */
export function renderTemplate(template: CompiledTemplate, variables: Variables, field = "variables"): { ok: true; rendered: Rendered } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const out: Partial<Record<TemplatePart, string>> = {};
  for (const { part, render, ast } of template.parts) {
    // Strict Handlebars stops at the first missing variable: fill it in a copy and go
    // on, so that one answer names every variable the request lacks.
    let given = variables;
    for (let tries = 0; tries < MAX_MISSING_NAMED; tries++) {
      try {
        out[part] = render(given);
        break;
      } catch (err) {
        const e = err as Error & { lineNumber?: number; column?: number };
        const located = e.lineNumber !== undefined && e.column !== undefined ? pathAt(ast, e.lineNumber, e.column) : undefined;
        const missingParent = located === undefined ? parentMissing(ast, given, e) : undefined;
        const path = located ?? missingParent?.path;
        if (missingParent) {
          e.lineNumber = missingParent.line;
          e.column = missingParent.column;
        }
        if (path === undefined) {
          errors.push({ field: `template.${part}`, message: `could not be rendered: ${e.message}` });
          break;
        }
        if (!errors.some((x) => x.field === `${field}.${path}`)) {
          errors.push({ field: `${field}.${path}`, message: `is used by the template (${where(part, e.lineNumber, e.column)}) but not given` });
        }
        // Inside #each or #with the path is relative to an item: named once, then stop.
        if (!fillIn(given === variables ? (given = structuredClone(variables)) : given, path, missingParent ? {} : "")) break;
      }
    }
  }
  const subject = out.subject;
  if (subject !== undefined && /[\r\n\0]/.test(subject)) {
    const subjectAst = template.parts.find((p) => p.part === "subject")!.ast;
    const culprit = [...walk(subjectAst)]
      .filter((n) => n.type === "PathExpression" && typeof n.original === "string")
      .map((n) => n.original!)
      .find((p) => /[\r\n\0]/.test(String(valueAt(variables, p) ?? "")));
    errors.push({
      field: culprit ? `${field}.${culprit}` : "template.subject",
      message: "would put CR, LF or NUL into the Subject header (RFC 5322 §2.2); header injection is refused",
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, rendered: { subject: subject ?? "", ...(out.text !== undefined && { text: out.text }), ...(out.html !== undefined && { html: out.html }) } };
}
