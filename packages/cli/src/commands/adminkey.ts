import { adminKeyDoc, createAdminKey, listAdminKeys, revokeAdminKey } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, type Command } from "./types.js";

export const adminkeyCommands: Record<string, Command> = {
  create: {
    usage: "adminkey create [--description <text>]",
    summary: "create a key for the admin API (/v1/admin/…); the key is shown once",
    flags: { description: { type: "string", value: "<text>", help: "what the key is for" } },
    async run(ctx) {
      const key = await createAdminKey(ctx.pool, flag(ctx, "description"));
      ctx.out.result({ admin_key: adminKeyDoc(key) }, () => `${key.token}\n`);
    },
  },
  list: {
    usage: "adminkey list",
    summary: "list admin keys (without their secrets)",
    flags: {},
    async run(ctx) {
      const keys = await listAdminKeys(ctx.pool);
      ctx.out.result({ admin_keys: keys.map(adminKeyDoc) }, () => table(keys, ["keyId", "description", "createdAt", "revokedAt"]));
    },
  },
  revoke: {
    usage: "adminkey revoke <key-id>",
    summary: "revoke an admin key",
    flags: {},
    async run(ctx) {
      const keyId = arg(ctx, 0, "key-id");
      await revokeAdminKey(ctx.pool, keyId);
      ctx.out.result({ revoked: keyId }, () => `admin key ${keyId} revoked\n`);
    },
  },
};
