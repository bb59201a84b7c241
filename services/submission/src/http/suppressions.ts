import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type, type Static, type TObject } from "@sinclair/typebox";
import type { Pool } from "@correo/db";
import {
  addSuppression,
  allSuppressions,
  CSV_HEADER,
  csvLines,
  findSuppression,
  listSuppressions,
  removeSuppression,
  suppressionDoc,
  SUPPRESSION_REASONS,
} from "@correo/suppression";
import type { Clock } from "@correo/spool";
import { directoryCall } from "./admin/directory-problem.js";
import { decodeAddressCursor, encodeAddressCursor } from "./cursor.js";
import { problems, sendProblem } from "./problem.js";

const Reason = Type.Union(SUPPRESSION_REASONS.map((r) => Type.Literal(r)), {
  description: "hard-bounce (the relay got a permanent address failure, RFC 3463 X.1.x/X.2.1), complaint (an ARF report, RFC 5965) or manual",
});

export const SuppressionDoc = Type.Object(
  {
    address: Type.String({ description: "lower-cased" }),
    reason: Reason,
    detail: Type.Union([Type.String(), Type.Null()], { description: "the DSN status and remote reply, the feedback report's fields, or the note given" }),
    created_at: Type.String({ format: "date-time" }),
    message_id: Type.Union([Type.String(), Type.Null()], { description: "the message whose bounce or complaint listed the address" }),
  },
  {
    examples: [
      {
        address: "gone@remote.example",
        reason: "hard-bounce",
        detail: "550 5.1.1 <gone@remote.example>: user unknown (remote MTA mx.remote.example)",
        created_at: "2026-12-02T14:00:00.000Z",
        message_id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      },
    ],
  },
);

const AddSuppression = Type.Object(
  {
    address: Type.String({ minLength: 3, maxLength: 320, examples: ["bob@remote.example"] }),
    detail: Type.Optional(Type.String({ maxLength: 1000, description: "why (shown with the entry)", examples: ["asked to be removed by phone"] })),
  },
  { additionalProperties: false },
);
type AddSuppression = Static<typeof AddSuppression>;

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: "^(?:[1-9]\\d{0,2}|1000)$", description: "entries per page, 1-1000 (default 100)" })),
    cursor: Type.Optional(Type.String({ maxLength: 600, description: "next_cursor of the previous page" })),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
type ListQuery = Static<typeof ListQuery>;

const AddressParams = Type.Object({ address: Type.String({ minLength: 3, maxLength: 320 }) });
type AddressParams = Static<typeof AddressParams>;

const Page = Type.Object({
  data: Type.Array(SuppressionDoc),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: "pass as ?cursor= for the next page; null on the last" }),
});

export interface SuppressionRoutesOptions {
  pool: Pool;
  clock: Clock;
  /** Where the routes live: `/v1/suppressions` or `/v1/admin/domains/:domain/suppressions`. */
  prefix: string;
  /** The domain whose list a request manages: the API key's, or the path's. */
  domainOf(req: FastifyRequest): string;
  tags: string[];
  /** Extra route schema (the HTTP API's security; the admin API adds its own). */
  schema?: Record<string, unknown>;
  /** The path's parameters besides :address (the admin API's :domain), as a JSON schema. */
  params?: TObject;
  problemResponses?: Record<string, unknown>;
}

const withAddress = (params: SuppressionRoutesOptions["params"]) => (params ? Type.Composite([params, AddressParams]) : AddressParams);

/**
 * The suppression list of one domain (issue 15): add, show, remove, list with a cursor,
 * export as CSV. Shared by the HTTP API (the API key's domain) and the admin API (any
 * domain); bad input is problem+json naming the field.
 */
export async function suppressionRoutes(app: FastifyInstance, opts: SuppressionRoutesOptions): Promise<void> {
  const { pool, prefix, tags } = opts;
  const base = { tags, ...(opts.schema ?? {}) };
  const errors = opts.problemResponses ?? {};
  const fields = { address: "body.address", domain: "params.domain" };

  app.get<{ Querystring: ListQuery }>(
    prefix,
    { schema: { ...base, summary: "List the suppression list, newest first, with cursor pagination", ...(opts.params ? { params: opts.params } : {}), querystring: ListQuery, response: { 200: Page, ...errors } } },
    async (req, reply) => {
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      const after = req.query.cursor === undefined ? undefined : decodeAddressCursor(req.query.cursor);
      if (req.query.cursor !== undefined && !after) return sendProblem(reply, problems.invalid([{ field: "querystring.cursor", message: "is not a cursor this API gave" }]));
      const r = await directoryCall(reply, "params.domain", () => listSuppressions(pool, opts.domainOf(req), { limit, ...(after ? { after } : {}), ...(req.query.reason ? { reason: req.query.reason } : {}) }), fields);
      if (!r.ok) return r.reply;
      return reply.send({ data: r.value.entries.map(suppressionDoc), next_cursor: r.value.next ? encodeAddressCursor(r.value.next) : null });
    },
  );

  app.get(
    `${prefix}/export`,
    {
      schema: {
        ...base,
        summary: "Export the whole suppression list as CSV (RFC 4180), streamed",
        description: "Columns: address, reason, detail, created_at, message_id; newest first.",
        ...(opts.params ? { params: opts.params } : {}),
        produces: ["text/csv"],
        response: { 200: { description: "the list as CSV", content: { "text/csv": { schema: Type.String({ examples: [`${CSV_HEADER}gone@remote.example,hard-bounce,550 5.1.1 user unknown,2026-12-02T14:00:00.000Z,1b4e28ba-2fa1-11d2-883f-0016d3cca427\r\n`] }) } } }, ...errors },
      },
    },
    async (req, reply) => {
      const domain = opts.domainOf(req);
      // The domain is checked before the 200 goes out; a failure later can only cut the stream.
      const first = await directoryCall(reply, "params.domain", () => listSuppressions(pool, domain, { limit: 0 }), fields);
      if (!first.ok) return first.reply;
      const pages = allSuppressions(pool, domain);
      const body = Readable.from(
        (async function* () {
          yield CSV_HEADER;
          for await (const page of pages) yield csvLines(page);
        })(),
      );
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="suppressions-${domain}.csv"`)
        .send(body);
    },
  );

  app.get<{ Params: AddressParams }>(
    `${prefix}/:address`,
    { schema: { ...base, summary: "One address's entry on the suppression list", params: withAddress(opts.params), response: { 200: Type.Object({ suppression: SuppressionDoc }), ...errors } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.address", () => findSuppression(pool, opts.domainOf(req), req.params.address), { ...fields, address: "params.address" });
      if (!r.ok) return r.reply;
      if (!r.value) return sendProblem(reply, problems.notFound(`${req.params.address} is not on the suppression list`, "params.address"));
      return reply.send({ suppression: suppressionDoc(r.value) });
    },
  );

  app.post<{ Body: AddSuppression }>(
    prefix,
    {
      schema: {
        ...base,
        summary: "Put an address on the suppression list by hand (reason manual); an address already listed keeps its entry (200)",
        ...(opts.params ? { params: opts.params } : {}),
        body: AddSuppression,
        response: { 201: Type.Object({ suppression: SuppressionDoc }), 200: Type.Object({ suppression: SuppressionDoc }), ...errors },
      },
    },
    async (req, reply) => {
      const r = await directoryCall(
        reply,
        "body.address",
        () => addSuppression(pool, { domain: opts.domainOf(req), address: req.body.address, reason: "manual", ...(req.body.detail ? { detail: req.body.detail } : {}), at: opts.clock.now() }),
        fields,
      );
      if (!r.ok) return r.reply;
      return reply.code(r.value.created ? 201 : 200).send({ suppression: suppressionDoc(r.value.suppression) });
    },
  );

  app.delete<{ Params: AddressParams }>(
    `${prefix}/:address`,
    { schema: { ...base, summary: "Take an address off the suppression list: mail to it is attempted again", params: withAddress(opts.params), response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      const r = await directoryCall(reply, "params.address", () => removeSuppression(pool, opts.domainOf(req), req.params.address), { ...fields, address: "params.address" });
      return r.ok ? reply.code(204).send() : r.reply;
    },
  );
}
