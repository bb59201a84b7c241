import { createAdminKey, listAdminKeys, revokeAdminKey } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, type Command } from "./types.js";

export const adminkeyCommands: Record<string, Command> = {
  create: {
    usage: "adminkey create [--description <text>]",
    summary: "create a key for the admin API (/v1/admin/…); the key is shown once",
    async run(ctx) {
      const key = await createAdminKey(ctx.pool, flag(ctx, "description"));
      ctx.out.result({ adminKey: { keyId: key.keyId, description: key.description, token: key.token } }, () => `${key.token}\n`);
    },
  },
  list: {
    usage: "adminkey list",
    summary: "list admin keys (without their secrets)",
    async run(ctx) {
      const keys = await listAdminKeys(ctx.pool);
      ctx.out.result({ adminKeys: keys }, () => table(keys, ["keyId", "description", "createdAt", "revokedAt"]));
    },
  },
  revoke: {
    usage: "adminkey revoke <key-id>",
    summary: "revoke an admin key",
    async run(ctx) {
      const keyId = arg(ctx, 0, "key-id");
      await revokeAdminKey(ctx.pool, keyId);
      ctx.out.result({ revoked: keyId }, () => `admin key ${keyId} revoked\n`);
    },
  },
};
