import { apiKeyDoc, createApiKey, findApiKey, listApiKeys, revokeApiKey } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, UsageError, type Command } from "./types.js";

export const apikeyCommands: Record<string, Command> = {
  create: {
    usage: "apikey create --domain <domain> [--description <text>] [--test]",
    summary: "create an HTTP API key that may send from <domain>; the key is shown once",
    flags: {
      domain: { type: "string", value: "<domain>", help: "the hosted domain the key may send from (required)" },
      description: { type: "string", value: "<text>", help: "what the key is for" },
      test: { type: "boolean", help: "test mode: its messages are accepted and recorded delivered, never sent" },
    },
    async run(ctx) {
      const domain = flag(ctx, "domain");
      if (!domain) throw new UsageError("--domain is required");
      const key = await createApiKey(ctx.pool, domain, flag(ctx, "description"), { testMode: ctx.flags.test === true });
      ctx.out.result({ api_key: apiKeyDoc(key) }, () => `${key.token}\n`);
    },
  },
  list: {
    usage: "apikey list [--domain <domain>]",
    summary: "list API keys (without their secrets)",
    flags: { domain: { type: "string", value: "<domain>", help: "only the keys of this domain" } },
    async run(ctx) {
      const keys = await listApiKeys(ctx.pool, flag(ctx, "domain"));
      ctx.out.result({ api_keys: keys.map(apiKeyDoc) }, () => table(keys, ["keyId", "domain", "description", "testMode", "createdAt", "revokedAt"]));
    },
  },
  show: {
    usage: "apikey show <key-id>",
    summary: "show one API key (without its secret), test mode included",
    flags: {},
    async run(ctx) {
      const key = await findApiKey(ctx.pool, arg(ctx, 0, "key-id"));
      ctx.out.result({ api_key: apiKeyDoc(key) }, () => table([key], ["keyId", "domain", "description", "testMode", "createdAt", "revokedAt"]));
    },
  },
  revoke: {
    usage: "apikey revoke <key-id>",
    summary: "revoke an API key",
    flags: {},
    async run(ctx) {
      const keyId = arg(ctx, 0, "key-id");
      await revokeApiKey(ctx.pool, keyId);
      ctx.out.result({ revoked: keyId }, () => `API key ${keyId} revoked\n`);
    },
  },
};
