/**
 * Folders and their messages, for the authenticated account: list folders with their
 * counts; page through a folder newest first; read one message parsed or raw, or one
 * attachment; set and clear flags; move; delete. Every read and change goes through
 * packages/mailstore, the same store (and the same change events) as IMAP.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isRefusal, type MailStore, type Mailbox } from "@correo/mailstore";
import type { AuthCache } from "@correo/directory";
import type { LoginThrottle } from "@correo/login-throttle";
import { requireAccount } from "./auth.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { attachmentAt, summarize, viewMessage } from "./message-view.js";
import { problems, sendProblem } from "./problem.js";
import {
  AttachmentParams,
  binary,
  DEFAULT_PAGE,
  DeleteQuery,
  DeleteResult,
  FlagsBody,
  FlagsResult,
  FolderList,
  FolderParams,
  ListQuery,
  MessagePage,
  MessageParams,
  MessageView,
  MoveBody,
  MoveResult,
  ProblemSchema,
} from "./schemas.js";

export interface FoldersRouteOptions {
  store: MailStore;
  logins?: LoginThrottle;
  authCache?: AuthCache;
}

const errors = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema };
const security: { [scheme: string]: string[] }[] = [{ basicAuth: [] }, { bearerAuth: [] }];
const TRASH = "\\Trash";

const folderPath = (name: string) => `/v1/folders/${encodeURIComponent(name)}`;
const messagePath = (folder: string, uid: number) => `${folderPath(folder)}/messages/${uid}`;

/** RFC 7231 §5.3.2, just enough: does the client prefer the raw message to JSON? */
export function wantsRaw(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(",").map((t) => t.split(";")[0]!.trim().toLowerCase());
  return types.includes("message/rfc822") && !types.includes("application/json");
}

function contentDisposition(kind: "attachment" | "inline", filename: string): string {
  // RFC 6266 §4.3: an ASCII fallback and the UTF-8 name (RFC 8187).
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function foldersRoutes(app: FastifyInstance, opts: FoldersRouteOptions): Promise<void> {
  const { store } = opts;
  requireAccount(app, store.pool, opts.logins, opts.authCache);
  listFoldersRoute(app, store);
  listMessagesRoute(app, store);
  readMessageRoute(app, store);
  readRawRoute(app, store);
  readAttachmentRoute(app, store);
  setFlagsRoute(app, store);
  moveRoute(app, store);
  deleteRoute(app, store);
}

/** The caller's folder by name, or a 404 naming the path parameter. */
async function folderOf(store: MailStore, req: FastifyRequest, reply: FastifyReply, name: string): Promise<Mailbox | undefined> {
  const box = await store.findMailbox(req.account.id, name);
  if (!box) sendProblem(reply, problems.notFound(`there is no folder ${JSON.stringify(name)}`, "params.folder"));
  return box;
}

const noMessage = (reply: FastifyReply, folder: string, uid: number) =>
  sendProblem(reply, problems.notFound(`there is no message ${uid} in ${JSON.stringify(folder)}`, "params.uid"));

function listFoldersRoute(app: FastifyInstance, store: MailStore): void {
  app.get(
    "/v1/folders",
    { schema: { tags: ["folders"], summary: "The account's folders with their counts", security, response: { 200: FolderList, 401: ProblemSchema } } },
    async (req) => {
      const boxes = await store.listMailboxes(req.account.id);
      const folders = await Promise.all(
        boxes.map(async (b) => {
          const s = await store.status(b);
          return {
            name: b.name,
            special_use: b.specialUse,
            subscribed: b.subscribed,
            messages: s.messages,
            unseen: s.unseen,
            size: s.size,
            uid_validity: s.uidValidity,
            uid_next: s.uidNext,
          };
        }),
      );
      return { folders };
    },
  );
}

function listMessagesRoute(app: FastifyInstance, store: MailStore): void {
  app.get<{ Params: FolderParams; Querystring: ListQuery }>(
    "/v1/folders/:folder/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "A page of a folder's messages, newest first",
        security,
        params: FolderParams,
        querystring: ListQuery,
        response: { 200: MessagePage, ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      const before = pageStart(req.query.cursor, box);
      if (typeof before === "string") return sendProblem(reply, problems.invalid([{ field: "querystring.cursor", message: before }]));
      const page = await store.listMessages(box.id, { limit: req.query.limit ?? DEFAULT_PAGE, ...(before.beforeUid ? { beforeUid: before.beforeUid } : {}) });
      return {
        folder: box.name,
        total: page.total,
        messages: page.messages.map(summarize),
        next_cursor: page.nextBeforeUid === null ? null : encodeCursor({ uidValidity: box.uidValidity, beforeUid: page.nextBeforeUid }),
      };
    },
  );
}

/** Where a page starts: below the cursor's UID (none: at the newest), or why the cursor is refused. */
function pageStart(cursorText: string | undefined, box: Mailbox): { beforeUid?: number } | string {
  if (cursorText === undefined) return {};
  const cursor = decodeCursor(cursorText);
  if (!cursor) return "is not a cursor this API gave";
  if (cursor.uidValidity !== box.uidValidity) return "is from before the folder was recreated; start again without it";
  return { beforeUid: cursor.beforeUid };
}

async function sendRaw(store: MailStore, req: FastifyRequest<{ Params: MessageParams }>, reply: FastifyReply, box: Mailbox): Promise<FastifyReply> {
  const raw = await store.readRaw(box.id, req.params.uid);
  if (!raw) return noMessage(reply, box.name, req.params.uid);
  return reply
    .type("message/rfc822")
    .header("Content-Disposition", contentDisposition("inline", `${box.name.replace(/\//g, "_")}-${req.params.uid}.eml`))
    .send(raw);
}

function readMessageRoute(app: FastifyInstance, store: MailStore): void {
  app.get<{ Params: MessageParams }>(
    "/v1/folders/:folder/messages/:uid",
    {
      schema: {
        tags: ["messages"],
        summary: "One message, parsed: headers, text, html and attachments (Accept: message/rfc822 gives it raw); `partial` says when only some of its parts could be read",
        security,
        params: MessageParams,
        response: { 200: { description: "the parsed message", content: { "application/json": { schema: MessageView }, "message/rfc822": { schema: { type: "string", format: "binary" } } } }, ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      if (wantsRaw(req.headers.accept)) return sendRaw(store, req, reply, box);
      const [record] = await store.fetch(box.id, [req.params.uid], { raw: true });
      if (!record?.raw) return noMessage(reply, box.name, req.params.uid);
      const view = await viewMessage(record, record.raw);
      const base = messagePath(box.name, record.uid);
      return reply.type("application/json").send({
        ...view,
        folder: box.name,
        attachments: view.attachments.map((a) => ({ ...a, url: `${base}/attachments/${a.index}` })),
        raw_url: `${base}/raw`,
      });
    },
  );
}

function readRawRoute(app: FastifyInstance, store: MailStore): void {
  app.get<{ Params: MessageParams }>(
    "/v1/folders/:folder/messages/:uid/raw",
    {
      schema: {
        tags: ["messages"],
        summary: "One message as stored (RFC 5322, message/rfc822)",
        security,
        params: MessageParams,
        response: { 200: binary("message/rfc822", "the message, byte for byte"), ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      return sendRaw(store, req, reply, box);
    },
  );
}

function readAttachmentRoute(app: FastifyInstance, store: MailStore): void {
  app.get<{ Params: AttachmentParams }>(
    "/v1/folders/:folder/messages/:uid/attachments/:index",
    {
      schema: {
        tags: ["messages"],
        summary: "One attachment, decoded, with its own Content-Type",
        security,
        params: AttachmentParams,
        response: { 200: binary("application/octet-stream", "the attachment's content (its Content-Type as in the message)"), ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      const [record] = await store.fetch(box.id, [req.params.uid], { raw: true });
      if (!record?.raw) return noMessage(reply, box.name, req.params.uid);
      const found = await attachmentAt(record, record.raw, req.params.index);
      if (!found) return sendProblem(reply, problems.notFound(`message ${req.params.uid} has no attachment ${req.params.index}`, "params.index"));
      return reply
        .type(found.view.content_type)
        .header("Content-Disposition", contentDisposition("attachment", found.view.filename ?? `attachment-${req.params.index}`))
        .header("X-Content-Type-Options", "nosniff")
        .send(found.content);
    },
  );
}

function setFlagsRoute(app: FastifyInstance, store: MailStore): void {
  app.patch<{ Params: MessageParams; Body: FlagsBody }>(
    "/v1/folders/:folder/messages/:uid/flags",
    {
      schema: {
        tags: ["messages"],
        summary: "Set and clear flags and keywords (\\Seen, \\Flagged, $Label, …)",
        security,
        params: MessageParams,
        body: FlagsBody,
        response: { 200: FlagsResult, ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      const { uid } = req.params;
      const add = req.body.add ?? [];
      const remove = req.body.remove ?? [];
      const both = add.filter((f) => remove.some((r) => r.toLowerCase() === f.toLowerCase()));
      if (both.length) return sendProblem(reply, problems.invalid([{ field: "body.remove", message: `${both.join(", ")} is also in body.add` }]));
      if ((await store.fetchFlags(box.id, [uid])).length === 0) return noMessage(reply, box.name, uid);
      // Two STOREs (RFC 3501 §6.4.6 +FLAGS then -FLAGS); each bumps MODSEQ only if it changes something.
      if (add.length) await store.storeFlags(box.id, [uid], "add", add);
      if (remove.length) await store.storeFlags(box.id, [uid], "remove", remove);
      const [now] = await store.fetchFlags(box.id, [uid]);
      if (!now) return noMessage(reply, box.name, uid);
      return { uid, flags: now.flags };
    },
  );
}

function moveRoute(app: FastifyInstance, store: MailStore): void {
  app.post<{ Params: MessageParams; Body: MoveBody }>(
    "/v1/folders/:folder/messages/:uid/move",
    {
      schema: {
        tags: ["messages"],
        summary: "Move a message to another folder (RFC 6851 MOVE); it gets a new UID there",
        security,
        params: MessageParams,
        body: MoveBody,
        response: { 200: MoveResult, ...errors, 507: ProblemSchema },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      const to = await store.findMailbox(req.account.id, req.body.to);
      if (!to) return sendProblem(reply, problems.notFound(`there is no folder ${JSON.stringify(req.body.to)}`, "body.to"));
      if (to.id === box.id) return sendProblem(reply, problems.invalid([{ field: "body.to", message: "is the folder the message is in" }]));
      const moved = await store.move(req.account.id, box.id, [req.params.uid], to.name);
      if (isRefusal(moved)) {
        return sendProblem(
          reply,
          moved.refused === "over-quota" ? problems.insufficientStorage(moved.text, "body.to") : problems.notFound(moved.text, "body.to"),
        );
      }
      const pair = moved.pairs[0];
      if (!pair) return noMessage(reply, box.name, req.params.uid);
      return { folder: to.name, uid: pair[1] };
    },
  );
}

function deleteRoute(app: FastifyInstance, store: MailStore): void {
  app.delete<{ Params: MessageParams; Querystring: DeleteQuery }>(
    "/v1/folders/:folder/messages/:uid",
    {
      schema: {
        tags: ["messages"],
        summary: "Delete a message: to Trash, or for good with ?expunge=true (or when it is in Trash already)",
        security,
        params: MessageParams,
        querystring: DeleteQuery,
        response: { 200: DeleteResult, ...errors },
      },
    },
    async (req, reply) => {
      const box = await folderOf(store, req, reply, req.params.folder);
      if (!box) return reply;
      const { uid } = req.params;
      const trash = box.specialUse === TRASH ? undefined : (await store.listMailboxes(req.account.id)).find((b) => b.specialUse === TRASH);
      if (req.query.expunge || !trash) return expunge(store, reply, box, uid);
      const moved = await store.move(req.account.id, box.id, [uid], trash.name);
      // Trash is the account's own; over quota a delete still has to work, so it expunges instead.
      if (isRefusal(moved)) return expunge(store, reply, box, uid);
      const pair = moved.pairs[0];
      return pair ? { result: "moved-to-trash" as const, folder: trash.name, uid: pair[1] } : noMessage(reply, box.name, uid);
    },
  );
}

/** Deletes the message for good. */
async function expunge(store: MailStore, reply: FastifyReply, box: Mailbox, uid: number) {
  const { expunged } = await store.remove(box.id, [uid]);
  return expunged.length ? { result: "expunged" as const } : noMessage(reply, box.name, uid);
}
