import { ConfigError, infraSpec, loadConfig } from "@correo/config";
import { createPool, ensureDatabase, migrate } from "@correo/db";
import { DirectoryError } from "@correo/directory";
import { InfraUnreachableError, probePostgres } from "@correo/runtime";
import { output } from "./output.js";
import { readCommandLine, type CommandTable } from "./command-line.js";
import { accountCommands } from "./commands/account.js";
import { adminkeyCommands } from "./commands/adminkey.js";
import { aliasCommands } from "./commands/alias.js";
import { apikeyCommands } from "./commands/apikey.js";
import { suppressionCommands } from "./commands/suppression.js";
import { domainCommands } from "./commands/domain.js";
import { transportCommands } from "./commands/transport.js";
import { queueCommands } from "./commands/queue.js";
import { dkimCommands } from "./commands/dkim.js";
import { doctorCommand } from "./commands/doctor.js";
import { dlqCommands } from "./commands/dlq.js";
import { routeCommands } from "./commands/route.js";
import { templateCommands } from "./commands/template.js";
import { Refused, UsageError } from "./commands/types.js";
import { eventCommands, webhookCommands } from "./commands/webhook.js";
import { WebhookError } from "@correo/webhooks";

/**
 * A noun is a table of verbs (packages/cli/src/commands/<noun>.ts), each a Command with
 * its usage, summary and the flags it takes; its line in the overview is below.
 */
const table: CommandTable = {
  nouns: {
    domain: domainCommands,
    account: accountCommands,
    alias: aliasCommands,
    apikey: apikeyCommands,
    adminkey: adminkeyCommands,
    transport: transportCommands,
    queue: queueCommands,
    dkim: dkimCommands,
    dlq: dlqCommands,
    route: routeCommands,
    template: templateCommands,
    suppression: suppressionCommands,
    webhook: webhookCommands,
    event: eventCommands,
  },
  commands: {
    doctor: doctorCommand,
  },
  nounSummaries: {
    domain: "hosted domains, their catch-all and alias domains",
    account: "accounts: passwords, quotas, enabled or not",
    alias: "addresses that expand to other addresses (forwarding)",
    apikey: "HTTP API keys of a domain, for POST /v1/messages",
    adminkey: "keys of the admin API (/v1/admin/…)",
    transport: "fixed next hops instead of MX lookup (smarthost)",
    queue: "the relay's queue: deferred remote deliveries",
    dkim: "DKIM signing keys and their DNS records",
    dlq: "the dead-letter queue: events no consumer could handle",
    route: "inbound routes: mail for an address or *@domain POSTed to an HTTP endpoint as JSON",
    template: "message templates of a domain (Handlebars), for POST /v1/messages",
    suppression: "a domain's suppression list: addresses its mail is not sent to",
    webhook: "webhook endpoints of a domain: events POSTed, signed, to your app",
    event: "the delivery timeline as events, as GET /v1/events shows it",
  },
};

/**
 * `correo <noun> <verb> …`: the directory's admin CLI. Exit 0 ok, 1 refused (doctor:
 * something to change), 2 usage, 69 a dependency unreachable, 78 configuration.
 */
async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const out = output(json);
  const fail = (code: string, message: string, extra = "") => {
    if (json) out.result({ error: { code, message } }, () => "");
    else process.stderr.write(`correo: ${message}\n${extra}`);
  };
  const line = readCommandLine(argv, table);
  if (line.kind === "help") {
    process.stdout.write(line.text);
    return line.exitCode;
  }
  if (line.kind === "usage") {
    fail("usage", line.message, `\n${line.help}`);
    return 2;
  }
  const { command: cmd, args, flags } = line;
  let config;
  try {
    config = loadConfig({ databaseUrl: infraSpec.databaseUrl });
    if (cmd.database !== false) await probePostgres(config.databaseUrl);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof InfraUnreachableError) {
      fail(err instanceof ConfigError ? "config" : "unavailable", err.message);
      return err instanceof ConfigError ? 78 : 69;
    }
    throw err;
  }
  if (cmd.database !== false) await ensureDatabase(config.databaseUrl);
  // A pg pool connects on its first query: for a verb without a database, never.
  const pool = createPool(config.databaseUrl, 2);
  try {
    if (cmd.database !== false) await migrate(pool);
    return (await cmd.run({ pool, out, args, flags })) ?? 0;
  } catch (err) {
    if (err instanceof InfraUnreachableError) {
      fail("unavailable", err.message);
      return 69;
    }
    if (err instanceof ConfigError) {
      fail("config", err.message);
      return 78;
    }
    if (err instanceof DirectoryError || err instanceof UsageError || err instanceof Refused) {
      const usage = err instanceof UsageError;
      fail(usage ? "usage" : err.code, err.message, usage ? `usage: correo ${cmd.usage}\n` : "");
      return usage ? 2 : 1;
    }
    if (err instanceof WebhookError) {
      fail(err.kind === "not-found" ? "not_found" : "invalid", err.message);
      return 1;
    }
    throw err;
  } finally {
    await pool.end();
  }
}

// Exit once the output is written: a client that failed to connect may leave a timer
// behind (ioredis keeps one for 2 s after ECONNREFUSED), and an answer should not wait for it.
const exit = (code: number) => process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
main(process.argv.slice(2)).then(exit, (err: Error) => {
  process.stderr.write(`correo: ${err.stack ?? err.message}\n`);
  exit(1);
});
