import type { Queryable } from "@correo/db";
import type { Clock } from "@correo/spool";
import { createHash } from "node:crypto";
import { compileTemplate, findTemplate, renderTemplate, type CompiledTemplate, type StoredTemplate } from "@correo/templates";
import { composeMessage } from "../compose.js";
import { addressesOf, type FieldError } from "./addresses.js";
import type { Problem } from "./problem.js";
import type { SendMessageBody } from "./schemas.js";
import { envelopeProblem, type BuiltMessage, type MessagesRouteOptions } from "./submit.js";

/** A domain's templates by name, compiled once per request (a batch reuses them). */
export type TemplateCache = Map<string, Promise<CompiledTemplate | undefined>>;

/**
 * Compiled templates by their source, shared by the process's requests: the source is
 * read from PostgreSQL every time (so an update is seen at once, by every copy), and
 * only its compilation is reused. A bounded map; the oldest entry goes first.
 */
const compiled = new Map<string, CompiledTemplate>();
const MAX_COMPILED = 1000;

function compiledFor(t: StoredTemplate): CompiledTemplate {
  const key = createHash("sha256").update(JSON.stringify([t.subject, t.text, t.html])).digest("base64");
  const hit = compiled.get(key);
  if (hit) return hit;
  const c = compileTemplate(t, "template");
  // Stored templates compiled when they were stored; a failure here is a bug, not the caller's.
  if (!c.ok) throw new Error(`stored template ${t.domain}/${t.name} does not compile: ${c.errors.map((e) => e.message).join("; ")}`);
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, c.template);
  return c.template;
}

export function templateLookup(db: Queryable, domain: string, cache: TemplateCache = new Map()) {
  return (name: string): Promise<CompiledTemplate | undefined> => {
    let hit = cache.get(name);
    if (!hit) {
      hit = findTemplate(db, domain, name).then((t) => t && compiledFor(t));
      cache.set(name, hit);
    }
    return hit;
  };
}

const CONTENT_FIELDS = ["subject", "text", "html"] as const;

/**
 * A message from `POST /v1/messages` fields (or one batch item): addresses parsed,
 * the template rendered when one is named, the envelope checked against the API key,
 * MIME composed. `at` prefixes every field named in an error (`messages[3].`).
 */
export async function messageFromFields(
  opts: Pick<MessagesRouteOptions, "hostname" | "maxRecipients"> & { clock: Clock },
  keyDomain: string,
  apiKeyId: number,
  body: SendMessageBody,
  templates: (name: string) => Promise<CompiledTemplate | undefined>,
  at = "",
): Promise<{ ok: true; built: BuiltMessage } | { ok: false; problem: Problem }> {
  const errors: FieldError[] = [];
  const [from] = addressesOf(`${at}from`, body.from, errors);
  const to = addressesOf(`${at}to`, body.to, errors);
  const cc = addressesOf(`${at}cc`, body.cc, errors);
  const bcc = addressesOf(`${at}bcc`, body.bcc, errors);
  let content: { subject?: string; text?: string; html?: string } = { subject: body.subject, text: body.text, html: body.html };
  if (body.template !== undefined) {
    // The template is the content: a field beside it would be silently ignored, or override it.
    for (const f of CONTENT_FIELDS) if (body[f] !== undefined) errors.push({ field: `${at}${f}`, message: "cannot be given with template: the template has it" });
    const template = await templates(body.template);
    if (!template) {
      errors.push({ field: `${at}template`, message: `no template '${body.template}' in domain ${keyDomain}` });
    } else if (errors.length === 0) {
      const r = renderTemplate(template, body.variables ?? {}, `${at}variables`);
      if (r.ok) content = r.rendered;
      else errors.push(...r.errors);
    }
  } else {
    if (body.variables !== undefined) errors.push({ field: `${at}variables`, message: "needs template: variables are for a template" });
    if (body.text === undefined && body.html === undefined && !body.attachments?.length) {
      errors.push({ field: `${at}text`, message: "a message needs text, html or attachments" });
    }
  }
  const replyTo = body.reply_to !== undefined ? addressesOf(`${at}reply_to`, body.reply_to, errors) : [];
  const recipients = [...new Set([...to, ...cc, ...bcc].map((a) => a.address))];
  const refused = envelopeProblem(opts, keyDomain, from?.address, recipients, errors, `${at}to`, `${at}from`);
  if (refused) return { ok: false, problem: refused };
  const id = crypto.randomUUID();
  const { raw, headerMessageId } = await composeMessage({
    id,
    // The header gets the addresses as parsed here, so that it says what the envelope does.
    from: from!,
    to,
    cc,
    bcc,
    replyTo: replyTo[0],
    subject: content.subject,
    text: content.text,
    html: content.html,
    headers: body.headers ?? {},
    attachments: (body.attachments ?? []).map((a) => ({
      filename: a.filename,
      content: Buffer.from(a.content, "base64"),
      contentType: a.content_type,
      cid: a.content_id,
    })),
    messageIdDomain: opts.hostname,
    date: opts.clock.now(),
  });
  return {
    ok: true,
    built: {
      id,
      raw,
      submission: { envelopeFrom: from!.address, recipients, source: "http", apiKeyId, headerMessageId, subject: content.subject },
      tags: body.tags ?? [],
      metadata: body.metadata ?? {},
    },
  };
}

