import { Type, type Static } from "@sinclair/typebox";
import { TEMPLATE_NAME_PATTERN, TEMPLATE_NAME_RULE } from "@correo/templates";

// Templates' documents, snake_case like the rest of the HTTP API.

export const TemplateName = Type.String({
  pattern: TEMPLATE_NAME_PATTERN,
  description: `a template name: ${TEMPLATE_NAME_RULE}`,
  examples: ["welcome"],
});

const Source = (part: string) =>
  Type.String({ maxLength: 512 * 1024, pattern: "^[^\\u0000]*$", description: `Handlebars source of the ${part}` });
// The subject is one header line: CR/LF can come only from a variable, which the renderer refuses.
const SubjectSource = Type.String({ minLength: 1, maxLength: 998, pattern: "^[^\\r\\n\\u0000]*$", description: "Handlebars source of the Subject (one line; not HTML-escaped)" });

export const Variables = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  maxProperties: 1000,
  description: "values for the template's {{variables}}; objects and arrays for {{a.b}} and {{#each}}",
  examples: [{ first_name: "Ana", order: { id: "A-1001", items: [{ name: "tea", qty: 2 }] } }],
});

export const TemplateDoc = Type.Object(
  {
    name: Type.String(),
    domain: Type.String(),
    subject: Type.String(),
    text: Type.Union([Type.String(), Type.Null()]),
    html: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: "date-time" }),
    updated_at: Type.String({ format: "date-time" }),
  },
  {
    examples: [
      {
        name: "welcome",
        domain: "example.com",
        subject: "Welcome, {{first_name}}",
        text: "Hello {{first_name}},\nyour order {{order.id}} is on its way.\n",
        html: "<p>Hello {{first_name}},</p><p>your order <b>{{order.id}}</b> is on its way.</p>",
        created_at: "2026-12-02T14:00:00.000Z",
        updated_at: "2026-12-02T14:00:00.000Z",
      },
    ],
  },
);

export const CreateTemplate = Type.Object(
  {
    name: TemplateName,
    subject: SubjectSource,
    text: Type.Optional(Source("plain-text part (not escaped)")),
    html: Type.Optional(Source("HTML part ({{x}} is HTML-escaped, {{{x}}} is not)")),
  },
  {
    additionalProperties: false,
    description: "a template: a subject and at least one of text and html",
    examples: [{ name: "welcome", subject: "Welcome, {{first_name}}", text: "Hello {{first_name}}!", html: "<p>Hello {{first_name}}!</p>" }],
  },
);
export type CreateTemplate = Static<typeof CreateTemplate>;

export const UpdateTemplate = Type.Object(
  {
    subject: Type.Optional(SubjectSource),
    text: Type.Optional(Type.Union([Source("plain-text part"), Type.Null()], { description: "null removes the text part" })),
    html: Type.Optional(Type.Union([Source("HTML part"), Type.Null()], { description: "null removes the HTML part" })),
  },
  { additionalProperties: false, minProperties: 1, description: "the parts to replace", examples: [{ subject: "Welcome aboard, {{first_name}}" }] },
);
export type UpdateTemplate = Static<typeof UpdateTemplate>;

export const PreviewBody = Type.Object(
  { variables: Type.Optional(Variables) },
  { additionalProperties: false, examples: [{ variables: { first_name: "Ana", order: { id: "A-1001" } } }] },
);
export type PreviewBody = Static<typeof PreviewBody>;

export const PreviewResponse = Type.Object(
  {
    subject: Type.String(),
    text: Type.Union([Type.String(), Type.Null()]),
    html: Type.Union([Type.String(), Type.Null()]),
  },
  { examples: [{ subject: "Welcome, Ana", text: "Hello Ana!", html: "<p>Hello Ana!</p>" }] },
);

export const TemplateParams = Type.Object({ name: TemplateName });
export type TemplateParams = Static<typeof TemplateParams>;
export const DomainTemplateParams = Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }), name: TemplateName });
export const DomainParams = Type.Object({ domain: Type.String({ minLength: 1, maxLength: 253 }) });
