import { Type, type Static } from "@sinclair/typebox";

// No CR or LF anywhere a header value comes from: that is how header injection works.
const HeaderText = (maxLength: number, description: string) =>
  Type.String({ maxLength, pattern: "^[^\\r\\n]*$", description });
const AddressField = HeaderText(998, "an address, optionally with a display name: 'Ana <ana@example.com>'");
const AddressList = Type.Union([AddressField, Type.Array(AddressField, { maxItems: 100 })]);

export const SendMessageBody = Type.Object(
  {
    from: AddressField,
    to: Type.Optional(AddressList),
    cc: Type.Optional(AddressList),
    bcc: Type.Optional(AddressList),
    reply_to: Type.Optional(AddressField),
    subject: Type.Optional(HeaderText(998, "Subject header")),
    text: Type.Optional(Type.String({ description: "plain-text body" })),
    html: Type.Optional(Type.String({ description: "HTML body" })),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: "^[!-9;-~]+$", maxLength: 76 }), HeaderText(998, "header value"), {
        description: "extra headers, name → value",
      }),
    ),
    attachments: Type.Optional(
      Type.Array(
        Type.Object(
          {
            filename: HeaderText(255, "file name"),
            content: Type.String({ description: "base64", pattern: "^[A-Za-z0-9+/\\s]*={0,2}\\s*$" }),
            content_type: Type.Optional(HeaderText(255, "MIME type, e.g. application/pdf")),
            content_id: Type.Optional(HeaderText(255, "Content-ID for inline images (cid:)")),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBody>;

export const RecipientStatus = Type.Object({
  address: Type.String(),
  delivery_id: Type.String(),
  status: Type.String(),
});

export const AcceptedResponse = Type.Object({
  id: Type.String({ description: "Correo's message id" }),
  message_id: Type.String({ description: "the Message-ID header" }),
  recipients: Type.Array(RecipientStatus),
});

export const MessageParams = Type.Object({
  id: Type.String({ pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" }),
});
export type MessageParams = Static<typeof MessageParams>;
