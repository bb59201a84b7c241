import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type, type TObject } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import { compileTemplate, createTemplate, deleteTemplate, getTemplate, listTemplates, renderTemplate, templateDoc, updateTemplate } from "@correo/templates";
import { directoryCall } from "../http/admin/directory-problem.js";
import { problems, sendProblem } from "../http/problem.js";
import { CreateTemplate, PreviewBody, PreviewResponse, TemplateDoc, UpdateTemplate } from "./schemas.js";

export interface TemplateRoutesOptions {
  pool: Pool;
  /** `/v1/templates` (the API key's domain) or `/v1/admin/domains/:domain/templates`. */
  path: string;
  /** The collection's and one template's path parameters. */
  collectionParams?: TObject;
  itemParams: TObject;
  domainOf(req: FastifyRequest): string;
  tags: string[];
  security?: { [scheme: string]: string[] }[];
  /** The problem+json responses to document (the admin API adds its own to every route). */
  problemResponses?: Record<number, unknown>;
  /** The request field that names the domain, when it is in the request (admin: params.domain). */
  domainField?: string;
}

type Params = { name: string; domain?: string };

/**
 * CRUD and preview of a domain's templates. A template that does not compile is
 * refused on create and update (400 naming body.subject, body.text or body.html),
 * so that a stored template fails at send time only for want of variables.
 */
export async function templateRoutes(app: FastifyInstance, opts: TemplateRoutesOptions): Promise<void> {
  const { pool, path: prefix, tags } = opts;
  const common = { tags, ...(opts.security && { security: opts.security }) };
  const domainFields: Record<string, string> = opts.domainField ? { domain: opts.domainField } : {};
  const one = `${prefix}/:name`;

  app.get(
    prefix,
    { schema: { ...common, summary: "List the domain's templates", ...(opts.collectionParams && { params: opts.collectionParams }), response: { ...opts.problemResponses, 200: Type.Object({ templates: Type.Array(TemplateDoc) }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, opts.domainField ?? "domain", () => listTemplates(pool, opts.domainOf(req)), domainFields);
      return r.ok ? { templates: r.value.map(templateDoc) } : r.reply;
    },
  );

  app.post<{ Body: CreateTemplate }>(
    prefix,
    { schema: { ...common, summary: "Create a template (Handlebars)", ...(opts.collectionParams && { params: opts.collectionParams }), body: CreateTemplate, response: { ...opts.problemResponses, 201: Type.Object({ template: TemplateDoc }) } } },
    async (req, reply) => {
      const compiled = compileTemplate(req.body, "body");
      if (!compiled.ok) return sendProblem(reply, problems.invalid(compiled.errors));
      const r = await directoryCall(reply, "body.name", () => createTemplate(pool, opts.domainOf(req), req.body), { name: "body.name", text: "body.text", ...domainFields });
      return r.ok ? reply.code(201).send({ template: templateDoc(r.value) }) : r.reply;
    },
  );

  app.get<{ Params: Params }>(
    one,
    { schema: { ...common, summary: "Show one template", params: opts.itemParams, response: { ...opts.problemResponses, 200: Type.Object({ template: TemplateDoc }) } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.name", () => getTemplate(pool, opts.domainOf(req), req.params.name), { name: "params.name", ...domainFields });
      return r.ok ? { template: templateDoc(r.value) } : r.reply;
    },
  );

  app.patch<{ Params: Params; Body: UpdateTemplate }>(
    one,
    { schema: { ...common, summary: "Replace parts of a template", params: opts.itemParams, body: UpdateTemplate, response: { ...opts.problemResponses, 200: Type.Object({ template: TemplateDoc }) } } },
    async (req, reply) => {
      // Only the parts sent are compiled here: the stored ones compiled when they were stored.
      const changed = { subject: req.body.subject ?? "x", text: req.body.text, html: req.body.html };
      const compiled = compileTemplate(changed, "body");
      if (!compiled.ok) return sendProblem(reply, problems.invalid(compiled.errors));
      const r = await directoryCall(reply, "params.name", () => updateTemplate(pool, opts.domainOf(req), req.params.name, req.body), {
        name: "params.name",
        text: "body.text",
        ...domainFields,
      });
      return r.ok ? { template: templateDoc(r.value) } : r.reply;
    },
  );

  app.delete<{ Params: Params }>(one, { schema: { ...common, summary: "Delete a template", params: opts.itemParams, response: { ...opts.problemResponses, 204: { type: "null", description: "deleted" } } } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => deleteTemplate(pool, opts.domainOf(req), req.params.name), { name: "params.name", ...domainFields });
    return r.ok ? reply.code(204).send() : r.reply;
  });

  app.post<{ Params: Params; Body: PreviewBody }>(
    `${one}/preview`,
    {
      schema: {
        ...common,
        summary: "Render a template with variables, without sending",
        description: "The same rendering as `POST /v1/messages` with `template`: a missing variable is a 400 naming it (`variables.first_name`).",
        params: opts.itemParams,
        body: PreviewBody,
        response: { ...opts.problemResponses, 200: PreviewResponse },
      },
    },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.name", () => getTemplate(pool, opts.domainOf(req), req.params.name), { name: "params.name", ...domainFields });
      if (!r.ok) return r.reply;
      const compiled = compileTemplate(r.value, "template");
      if (!compiled.ok) return sendProblem(reply, problems.invalid(compiled.errors));
      const rendered = renderTemplate(compiled.template, req.body.variables ?? {});
      if (!rendered.ok) return sendProblem(reply, problems.invalid(rendered.errors));
      return { subject: rendered.rendered.subject, text: rendered.rendered.text ?? null, html: rendered.rendered.html ?? null };
    },
  );
}
