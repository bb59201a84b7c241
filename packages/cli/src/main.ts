import { parseArgs } from "node:util";
import { ConfigError, infraSpec, loadConfig } from "@correo/config";
import { createPool, ensureDatabase, migrate } from "@correo/db";
import { DirectoryError } from "@correo/directory";
import { InfraUnreachableError, probePostgres } from "@correo/runtime";
import { output } from "./output.js";
import { accountCommands } from "./commands/account.js";
import { adminkeyCommands } from "./commands/adminkey.js";
import { aliasCommands } from "./commands/alias.js";
import { apikeyCommands } from "./commands/apikey.js";
import { domainCommands } from "./commands/domain.js";
import { transportCommands } from "./commands/transport.js";
import { queueCommands } from "./commands/queue.js";
import { dkimCommands } from "./commands/dkim.js";
import { dlqCommands } from "./commands/dlq.js";
import { Refused, UsageError, type Command } from "./commands/types.js";

const nouns: Record<string, Record<string, Command>> = {
  domain: domainCommands,
  account: accountCommands,
  alias: aliasCommands,
  apikey: apikeyCommands,
  adminkey: adminkeyCommands,
  transport: transportCommands,
  queue: queueCommands,
  dkim: dkimCommands,
  dlq: dlqCommands,
};

function help(): string {
  const lines = ["usage: correo <noun> <verb> [arguments] [--json]", ""];
  for (const [noun, verbs] of Object.entries(nouns)) {
    for (const cmd of Object.values(verbs)) lines.push(`  correo ${cmd.usage.padEnd(64)} ${cmd.summary}`);
    void noun;
  }
  lines.push("", "Reads DATABASE_URL (default postgres://postgres@127.0.0.1:5432/correo); dlq also AMQP_URL and CORREO_PREFIX.", "");
  return lines.join("\n");
}

/** `correo <noun> <verb> …`: the directory's admin CLI. Exit 0 ok, 1 refused, 2 usage, 69 database (or, for dlq, RabbitMQ) unreachable. */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    // Every flag any command takes; a command reads the ones it knows.
    options: {
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      password: { type: "string" },
      "password-stdin": { type: "boolean" },
      domain: { type: "string" },
      description: { type: "string" },
      "catch-all": { type: "string" },
      none: { type: "boolean" },
      quota: { type: "string" },
      disabled: { type: "boolean" },
      tls: { type: "string" },
      user: { type: "string" },
      limit: { type: "string" },
      offset: { type: "string" },
    },
  });
  const json = values.json === true;
  const out = output(json);
  const [noun, verb, ...args] = positionals;
  if (values.help || !noun) {
    process.stdout.write(help());
    return noun || values.help ? 0 : 2;
  }
  const cmd = nouns[noun]?.[verb ?? ""];
  if (!cmd) {
    const fail = `unknown command '${[noun, verb].filter(Boolean).join(" ")}'`;
    if (json) out.result({ error: { code: "usage", message: fail } }, () => "");
    else process.stderr.write(`correo: ${fail}\n\n${help()}`);
    return 2;
  }
  const flags = values as Record<string, string | boolean | undefined>;
  let config;
  try {
    config = loadConfig({ databaseUrl: infraSpec.databaseUrl });
    await probePostgres(config.databaseUrl);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof InfraUnreachableError) {
      if (json) out.result({ error: { code: "unavailable", message: err.message } }, () => "");
      else process.stderr.write(`correo: ${err.message}\n`);
      return err instanceof ConfigError ? 78 : 69;
    }
    throw err;
  }
  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 2);
  try {
    await migrate(pool);
    await cmd.run({ pool, out, args, flags });
    return 0;
  } catch (err) {
    if (err instanceof InfraUnreachableError) {
      if (json) out.result({ error: { code: "unavailable", message: err.message } }, () => "");
      else process.stderr.write(`correo: ${err.message}\n`);
      return 69;
    }
    if (err instanceof DirectoryError || err instanceof UsageError || err instanceof Refused) {
      const code = err instanceof UsageError ? "usage" : err.code;
      if (json) out.result({ error: { code, message: err.message } }, () => "");
      else process.stderr.write(`correo: ${err.message}${err instanceof UsageError ? `\nusage: correo ${cmd.usage}` : ""}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`correo: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
