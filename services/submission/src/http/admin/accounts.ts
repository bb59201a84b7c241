import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import { withTransaction, type Pool } from "@correo/db";
import { accountDoc, addAccount, findAccount, listAccounts, removeAccount, setAccountEnabled, setPassword, setQuota } from "@correo/directory";
import { problems, sendProblem } from "../problem.js";
import { directoryCall } from "./directory-problem.js";
import { AccountDoc, CreateAccount, DomainQuery, NameParams, UpdateAccount } from "./schemas.js";

/** Accounts (password, quota, enabled): `pnpm correo account …`. */
export async function accountRoutes(app: FastifyInstance, { pool }: { pool: Pool }): Promise<void> {
  const tags = ["admin: accounts"];
  const fields = { quota: "body.quota_bytes" };
  app.get<{ Querystring: DomainQuery }>(
    "/v1/admin/accounts",
    { schema: { tags, summary: "List accounts, optionally of one domain", querystring: DomainQuery, response: { 200: Type.Object({ accounts: Type.Array(AccountDoc) }) } } },
    async (req) => ({ accounts: (await listAccounts(pool, req.query.domain)).map(accountDoc) }),
  );
  app.post<{ Body: CreateAccount }>(
    "/v1/admin/accounts",
    { schema: { tags, summary: "Create an account", body: CreateAccount, response: { 201: Type.Object({ account: AccountDoc }) } } },
    async (req, reply) => {
      const b = req.body;
      const r = await directoryCall(
        reply,
        "body.address",
        () => addAccount(pool, b.address, b.password, { quotaBytes: b.quota_bytes ?? null, enabled: b.enabled ?? true }),
        fields,
      );
      return r.ok ? reply.code(201).send({ account: accountDoc(r.value) }) : r.reply;
    },
  );
  app.patch<{ Params: NameParams; Body: UpdateAccount }>(
    "/v1/admin/accounts/:name",
    { schema: { tags, summary: "Change an account's password, quota or enabled state", params: NameParams, body: UpdateAccount, response: { 200: Type.Object({ account: AccountDoc }) } } },
    async (req, reply) => {
      const address = req.params.name;
      const b = req.body;
      const r = await directoryCall(
        reply,
        "params.name",
        () =>
          withTransaction(pool, async (db) => {
            if (b.password !== undefined) await setPassword(db, address, b.password);
            if (b.quota_bytes !== undefined) await setQuota(db, address, b.quota_bytes);
            if (b.enabled !== undefined) await setAccountEnabled(db, address, b.enabled);
            return findAccount(db, address);
          }),
        fields,
      );
      if (!r.ok) return r.reply;
      if (!r.value) return sendProblem(reply, problems.notFound(`account ${address} does not exist`));
      return { account: accountDoc(r.value) };
    },
  );
  app.delete<{ Params: NameParams }>("/v1/admin/accounts/:name", { schema: { tags, summary: "Delete an account and its mailboxes", params: NameParams } }, async (req, reply) => {
    const r = await directoryCall(reply, "params.name", () => removeAccount(pool, req.params.name));
    return r.ok ? reply.code(204).send() : r.reply;
  });
}
