import type { FastifyInstance } from "fastify";
import { composeMessage } from "../compose.js";
import { addressesOf, type FieldError } from "./addresses.js";
import { requireApiKey } from "./auth.js";
import { rawMessageRoute } from "./raw-route.js";
import { AcceptedResponse, IdempotencyHeaders, problemResponses, SendMessageBody } from "./schemas.js";
import { messageStatusRoutes } from "./status-route.js";
import { acceptBuiltMessage, checkEnvelope, type MessagesRouteOptions } from "./submit.js";

export type { MessagesRouteOptions } from "./submit.js";

export async function messagesRoutes(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  requireApiKey(app, opts.pool);
  app.post<{ Body: SendMessageBody; Headers: IdempotencyHeaders }>(
    "/v1/messages",
    {
      schema: {
        summary: "Send a message composed from fields",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        headers: IdempotencyHeaders,
        body: SendMessageBody,
        response: { 202: AcceptedResponse, ...problemResponses },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const errors: FieldError[] = [];
      const [from] = addressesOf("from", body.from, errors);
      const to = addressesOf("to", body.to, errors);
      const cc = addressesOf("cc", body.cc, errors);
      const bcc = addressesOf("bcc", body.bcc, errors);
      if (body.text === undefined && body.html === undefined && !body.attachments?.length) {
        errors.push({ field: "text", message: "a message needs text, html or attachments" });
      }
      const replyTo = body.reply_to !== undefined ? addressesOf("reply_to", body.reply_to, errors) : [];
      const recipients = [...new Set([...to, ...cc, ...bcc].map((a) => a.address))];
      const refused = checkEnvelope(opts, req, reply, from?.address, recipients, errors, "to");
      if (refused) return refused;
      const id = crypto.randomUUID();
      const { raw, headerMessageId } = await composeMessage({
        id,
        // The header gets the addresses as parsed here, so that it says what the envelope does.
        from: from!,
        to,
        cc,
        bcc,
        replyTo: replyTo[0],
        subject: body.subject,
        text: body.text,
        html: body.html,
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
      return acceptBuiltMessage(app, opts, req, reply, {
        id,
        raw,
        submission: {
          envelopeFrom: from!.address,
          recipients,
          source: "http",
          apiKeyId: req.apiKey.id,
          headerMessageId,
          subject: body.subject,
        },
        tags: body.tags ?? [],
        metadata: body.metadata ?? {},
      });
    },
  );
  await rawMessageRoute(app, opts);
  await messageStatusRoutes(app, opts);
}
