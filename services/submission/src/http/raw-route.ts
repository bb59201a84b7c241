import type { FastifyInstance } from "fastify";
// The request.apiKey decoration (module augmentation) is declared there.
import type {} from "./auth.js";
import addressparser from "nodemailer/lib/addressparser";
import { parseAddress } from "@correo/directory";
import { headerValue, prependHeaders, readHeaderSection, rfc5322Date } from "../message-headers.js";
import { envelopeAddressesOf, type FieldError } from "./addresses.js";
import { acceptBuiltMessage, checkEnvelope, type MessagesRouteOptions } from "./submit.js";
import { problems, sendProblem } from "./problem.js";
import { AcceptedResponse, IdempotencyHeaders, problemResponses, RawMessageBody } from "./schemas.js";

/** Canonical CRLF line endings (RFC 5322 §2.1): a lone CR or LF becomes CRLF. */
export function canonicalLineEndings(raw: Buffer): Buffer {
  return Buffer.from(raw.toString("latin1").replace(/\r\n|\r|\n/g, "\r\n"), "latin1");
}

/** Why a raw message is not one: a header section of fields, an empty line, a body; a From field. */
export function rawMessageProblem(raw: Buffer): string | undefined {
  const end = raw.indexOf("\r\n\r\n");
  const header = (end < 0 ? raw : raw.subarray(0, end)).toString("latin1");
  const lines = header.split("\r\n");
  if (!/^[!-9;-~]+:/.test(lines[0] ?? "")) return "does not start with a header field (RFC 5322 §2.2)";
  const bad = lines.findIndex((l) => !/^[!-9;-~]+:/.test(l) && !/^[ \t]/.test(l));
  if (bad >= 0) return `header line ${bad + 1} is neither a field nor a continuation (RFC 5322 §2.2)`;
  if (lines.some((l) => l.length > 998)) return "has a header line longer than 998 characters (RFC 5322 §2.1.1)";
  // RFC 5322 §3.2.2/§4: NUL is obsolete syntax a message must not be generated with (and PostgreSQL cannot keep it as text).
  const nul = lines.findIndex((l) => l.includes("\0"));
  if (nul >= 0) return `header line ${nul + 1} holds a NUL octet (RFC 5322 §4)`;
  return undefined;
}

export async function rawMessageRoute(app: FastifyInstance, opts: MessagesRouteOptions): Promise<void> {
  app.post<{ Body: RawMessageBody; Headers: IdempotencyHeaders }>(
    "/v1/messages/raw",
    {
      schema: {
        summary: "Send a complete RFC 5322 message with its envelope",
        tags: ["messages"],
        security: [{ apiKey: [] }],
        headers: IdempotencyHeaders,
        body: RawMessageBody,
        response: { 202: AcceptedResponse, ...problemResponses },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const errors: FieldError[] = [];
      const [from] = envelopeAddressesOf("from", body.from, errors);
      const recipients = [...new Set(envelopeAddressesOf("to", body.to, errors))];
      if ((body.message === undefined) === (body.message_base64 === undefined)) {
        errors.push({ field: "message", message: "give the message as exactly one of message or message_base64" });
        return sendProblem(reply, problems.invalid(errors));
      }
      const field = body.message !== undefined ? "message" : "message_base64";
      let raw = canonicalLineEndings(body.message !== undefined ? Buffer.from(body.message, "utf8") : Buffer.from(body.message_base64!, "base64"));
      const problem = rawMessageProblem(raw);
      if (problem) errors.push({ field, message: problem });
      const headers = readHeaderSection(raw);
      const headerFrom = headerValue(headers, "From");
      if (!problem && !headerFrom) errors.push({ field, message: "has no From: field (RFC 5322 §3.6)" });
      const refused = checkEnvelope(opts, req, reply, from, recipients, errors, "to");
      if (refused) return refused;
      // The API key's domain governs the From: field as well as the envelope: no spoofing through raw.
      const fromAddrs = addressparser(headerFrom!, { flatten: true });
      const foreign = fromAddrs.find((a) => !a.address || parseAddress(a.address)?.domain !== req.apiKey.domain);
      if (fromAddrs.length === 0 || foreign) {
        return sendProblem(reply, problems.forbidden(`the From: field must use @${req.apiKey.domain}, the API key's domain`, field));
      }
      // RFC 6409 §8.2, §8.3: the submission server adds Message-ID and Date when missing.
      let headerMessageId = headerValue(headers, "Message-ID");
      const added: string[] = [];
      if (!headerMessageId) {
        headerMessageId = `<${crypto.randomUUID()}@${opts.hostname}>`;
        added.push(`Message-ID: ${headerMessageId}`);
      }
      if (!headerValue(headers, "Date")) added.push(`Date: ${rfc5322Date(opts.clock.now())}`);
      raw = prependHeaders(raw, added);
      return acceptBuiltMessage(app, opts, req, reply, {
        raw,
        submission: {
          envelopeFrom: from!,
          recipients,
          source: "http",
          apiKeyId: req.apiKey.id,
          headerMessageId: headerMessageId.slice(0, 998),
          subject: headerValue(headers, "Subject")?.slice(0, 998),
        },
        tags: body.tags ?? [],
        metadata: body.metadata ?? {},
      });
    },
  );
}
