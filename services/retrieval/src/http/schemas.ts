/** JSON schemas of the mailbox API: they validate requests, shape responses and make the OpenAPI document. */
import { Type, type Static } from "@sinclair/typebox";

// --- requests ------------------------------------------------------------------------

// RFC 3501 §9: no IMAP string holds NUL (CHAR is %x01-7F), nor can PostgreSQL text.
const NO_NUL = "^[^\\u0000]*$";
const FolderName = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: NO_NUL,
  description: "folder name, URL-encoded (hierarchy delimiter '/', so 'Projects/2026' is 'Projects%2F2026'); INBOX in any case",
});
const Uid = Type.Integer({ minimum: 1, maximum: 4294967295, description: "the message's UID in its folder (RFC 3501 §2.3.1.1)" });

export const FolderParams = Type.Object({ folder: FolderName });
export type FolderParams = Static<typeof FolderParams>;

export const MessageParams = Type.Object({ folder: FolderName, uid: Uid });
export type MessageParams = Static<typeof MessageParams>;

export const AttachmentParams = Type.Object({
  folder: FolderName,
  uid: Uid,
  index: Type.Integer({ minimum: 0, maximum: 9999, description: "the attachment's index in the message view" }),
});
export type AttachmentParams = Static<typeof AttachmentParams>;

export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: "messages per page" })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "next_cursor of the previous page" })),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

/** RFC 3501 §2.3.2: system flags a client may set (not \Recent), or a keyword (an IMAP atom). */
export const Flag = Type.String({
  pattern: "^(\\\\(Seen|Flagged|Answered|Draft|Deleted)|[A-Za-z0-9$_.+&!#'^`|~:;<>?@=-]{1,64})$",
  description: "\\Seen, \\Flagged, \\Answered, \\Draft, \\Deleted, or a keyword such as $Important",
});
export const FlagsBody = Type.Object(
  {
    add: Type.Optional(Type.Array(Flag, { maxItems: 32, uniqueItems: true })),
    remove: Type.Optional(Type.Array(Flag, { maxItems: 32, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type FlagsBody = Static<typeof FlagsBody>;

export const MoveBody = Type.Object(
  { to: Type.String({ minLength: 1, maxLength: 255, pattern: NO_NUL, description: "the destination folder's name" }) },
  { additionalProperties: false },
);
export type MoveBody = Static<typeof MoveBody>;

export const DeleteQuery = Type.Object(
  { expunge: Type.Optional(Type.Boolean({ default: false, description: "remove for good instead of moving to Trash" })) },
  { additionalProperties: false },
);
export type DeleteQuery = Static<typeof DeleteQuery>;

export const IssueTokenBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 200, pattern: "^[^\\r\\n]*$", description: "what the token is for, e.g. 'phone'" })),
    expires_in: Type.Optional(Type.Integer({ minimum: 60, maximum: 31536000, description: "lifetime in seconds; without it the token lasts until revoked" })),
  },
  { additionalProperties: false },
);
export type IssueTokenBody = Static<typeof IssueTokenBody>;

export const TokenParams = Type.Object({ id: Type.String({ pattern: "^[0-9a-f]{16}$", description: "the token's id" }) });
export type TokenParams = Static<typeof TokenParams>;

// --- responses -----------------------------------------------------------------------

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Address = Type.Object({ name: Nullable(Type.String()), address: Type.String() });

export const Folder = Type.Object({
  name: Type.String(),
  special_use: Nullable(Type.String({ description: "RFC 6154: \\Sent, \\Drafts, \\Trash, \\Junk, …" })),
  subscribed: Type.Boolean(),
  messages: Type.Integer(),
  unseen: Type.Integer(),
  size: Type.Integer({ description: "octets" }),
  uid_validity: Type.Integer(),
  uid_next: Type.Integer(),
});
export const FolderList = Type.Object({ folders: Type.Array(Folder) });

const summaryFields = {
  uid: Type.Integer(),
  flags: Type.Array(Type.String()),
  size: Type.Integer({ description: "octets of the stored message" }),
  internal_date: Type.String({ format: "date-time", description: "when it arrived" }),
  date: Nullable(Type.String({ description: "the Date header" })),
  subject: Nullable(Type.String()),
  from: Type.Array(Address),
  to: Type.Array(Address),
  cc: Type.Array(Address),
  message_id: Nullable(Type.String()),
  has_attachments: Type.Boolean(),
};
export const MessageSummary = Type.Object(summaryFields);
export const MessagePage = Type.Object({
  folder: Type.String(),
  total: Type.Integer({ description: "messages in the folder" }),
  messages: Type.Array(MessageSummary, { description: "newest first" }),
  next_cursor: Nullable(Type.String({ description: "pass as ?cursor= for the next, older page; null on the last" })),
});

export const Attachment = Type.Object({
  index: Type.Integer(),
  filename: Nullable(Type.String()),
  content_type: Type.String(),
  size: Type.Integer(),
  content_id: Nullable(Type.String()),
  disposition: Nullable(Type.String()),
  url: Type.String({ description: "where to download it" }),
});
export const MessageView = Type.Object({
  ...summaryFields,
  folder: Type.String(),
  reply_to: Type.Array(Address),
  in_reply_to: Nullable(Type.String()),
  references: Type.Array(Type.String()),
  headers: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
  text: Nullable(Type.String()),
  html: Nullable(Type.String({ description: "as sent: sanitise before showing it" })),
  attachments: Type.Array(Attachment),
  raw_url: Type.String({ description: "the message as stored (message/rfc822)" }),
  partial: Nullable(
    Type.Object(
      {
        reason: Type.String(),
        parts_total: Type.Integer({ description: "leaf MIME parts in the message" }),
        parts_read: Type.Integer({ description: "of those, the ones in text, html and attachments" }),
      },
      { description: "the message could not be parsed whole (e.g. more MIME parts than the parser reads): its header and the parts read one by one are shown; raw_url has it all" },
    ),
  ),
});

export const FlagsResult = Type.Object({ uid: Type.Integer(), flags: Type.Array(Type.String()) });
export const MoveResult = Type.Object({ folder: Type.String(), uid: Type.Integer({ description: "its UID in the destination" }) });
export const DeleteResult = Type.Object({
  result: Type.Union([Type.Literal("moved-to-trash"), Type.Literal("expunged")]),
  folder: Type.Optional(Type.String()),
  uid: Type.Optional(Type.Integer()),
});

const tokenFields = {
  id: Type.String(),
  description: Nullable(Type.String()),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Nullable(Type.String({ format: "date-time" })),
  last_used_at: Nullable(Type.String({ format: "date-time" })),
};
export const TokenInfo = Type.Object(tokenFields);
export const IssuedToken = Type.Object({ ...tokenFields, token: Type.String({ description: "shown once: send it as 'Authorization: Bearer <token>'" }) });
export const TokenList = Type.Object({ tokens: Type.Array(TokenInfo) });

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
});

/** Binary answers (raw messages, attachments): described for OpenAPI, sent as Buffers. */
export const binary = (contentType: string, description: string) => ({
  description,
  content: { [contentType]: { schema: { type: "string", format: "binary" } } },
});
