import { DkimKeyError, dkimTxtRecord, findDkimKey, generateDkimKey, listDkimKeys, removeDkimKey, saveDkimKey } from "@correo/dkim";
import { DirectoryError } from "@correo/directory";
import { table } from "../output.js";
import { arg, flag, type Command } from "./types.js";

/**
 * `correo dkim …`: signing keys of hosted domains (RFC 6376). The relay signs mail whose
 * From domain has a key; the TXT record printed here must be published in that domain's
 * DNS for receivers to verify it.
 */

const DEFAULT_SELECTOR = "correo";

/** Key errors shown the way the CLI shows directory errors (exit 1, JSON error code). */
async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DkimKeyError) throw new DirectoryError(err.code === "not_found" ? "not_found" : "invalid", err.message);
    throw err;
  }
}

export const dkimCommands: Record<string, Command> = {
  generate: {
    usage: "dkim generate <domain> [--selector <name>]",
    summary: "create (or replace) the domain's DKIM key and print its DNS TXT record",
    flags: { selector: { type: "string", value: "<name>", help: `the DKIM selector (default ${DEFAULT_SELECTOR})` } },
    async run(ctx) {
      const domain = arg(ctx, 0, "domain").toLowerCase();
      const selector = flag(ctx, "selector") ?? DEFAULT_SELECTOR;
      const key = await refusing(() => saveDkimKey(ctx.pool, domain, selector, generateDkimKey()));
      const txt = dkimTxtRecord(key.domain, key.selector, key.publicKey);
      ctx.out.result({ domain: key.domain, selector: key.selector, record: { name: txt.name, type: "TXT", value: txt.value } }, () =>
        `DKIM key for ${key.domain} (selector ${key.selector}). Publish this TXT record:\n\n${txt.zoneLine}\n`,
      );
    },
  },
  show: {
    usage: "dkim show <domain>",
    summary: "print the DNS TXT record of the domain's DKIM key",
    flags: {},
    async run(ctx) {
      const domain = arg(ctx, 0, "domain");
      const key = await findDkimKey(ctx.pool, domain);
      if (!key) throw new DirectoryError("not_found", `${domain} has no DKIM key (create one: correo dkim generate ${domain})`);
      const txt = dkimTxtRecord(key.domain, key.selector, key.publicKey);
      ctx.out.result({ domain: key.domain, selector: key.selector, record: { name: txt.name, type: "TXT", value: txt.value } }, () => `${txt.zoneLine}\n`);
    },
  },
  list: {
    usage: "dkim list",
    summary: "list the domains that sign their mail",
    flags: {},
    async run(ctx) {
      const keys = (await listDkimKeys(ctx.pool)).map((k) => ({ domain: k.domain, selector: k.selector, createdAt: k.createdAt }));
      ctx.out.result({ keys: keys.map((k) => ({ domain: k.domain, selector: k.selector, created_at: k.createdAt })) }, () =>
        table(keys, ["domain", "selector", "createdAt"]),
      );
    },
  },
  remove: {
    usage: "dkim remove <domain>",
    summary: "stop signing the domain's mail",
    flags: {},
    async run(ctx) {
      const domain = arg(ctx, 0, "domain");
      await refusing(() => removeDkimKey(ctx.pool, domain));
      ctx.out.result({ removed: domain }, () => `DKIM key of ${domain} removed\n`);
    },
  },
};
