import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDetails, formatTable, runScenario, type ScenarioResult } from "./run.js";
import { scenarios } from "./scenarios.js";
import { startPrivateServers, type PrivateServers } from "./servers.js";

/**
 * The chaos suite (issue 10): private PostgreSQL, Redis and RabbitMQ, the five services
 * under a supervisor, a remote MX sink that defers first, a load over SMTP and HTTP with
 * a unique token per message — and one fault per scenario. Each scenario fails on any
 * accepted message lost, any duplicate in a mailbox, a service that dies on its own or
 * does not come back, a client locked out, or a reply that breaks the README's promise.
 *
 *   CHAOS_MESSAGES   messages per scenario (default 300; `pnpm test:chaos` uses 10 000)
 *   CHAOS_SCENARIOS  comma-separated names to run only those
 *   CHAOS_REPORT     file to write the table and the details to
 */
const size = Number(process.env.CHAOS_MESSAGES || 300);
const only = process.env.CHAOS_SCENARIOS?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
if (unknown.length) throw new Error(`CHAOS_SCENARIOS: no scenario ${unknown.join(", ")}; there are ${scenarios.map((s) => s.name).join(", ")}`);
const selected = scenarios.filter((s) => !only?.length || only.includes(s.name));
const drainTimeoutMs = 120_000 + size * 20;
// Start, load (tens of messages a second on a busy 2-core machine, fewer under a fault),
// client give-up, drain and checks: generous, so that a slow run is reported, not cut off.
const scenarioTimeoutMs = 15 * 60_000 + size * 500 + drainTimeoutMs;
const log = (line: string) => process.stdout.write(`${line}\n`);

let servers: PrivateServers | undefined;
const results: ScenarioResult[] = [];

beforeAll(async () => {
  servers = await startPrivateServers();
  log(`chaos: private servers ${servers.urls.databaseUrl} ${servers.urls.redisUrl} ${servers.urls.amqpUrl} (node ${servers.rabbitNode}); ${size} messages per scenario`);
});

afterAll(async () => {
  if (results.length) {
    const report = [`# chaos run: ${size} messages per scenario`, "", formatTable(results), "", ...results.map(formatDetails), ""].join("\n");
    log(`\n${report}`);
    if (process.env.CHAOS_REPORT) {
      mkdirSync(dirname(process.env.CHAOS_REPORT), { recursive: true });
      writeFileSync(process.env.CHAOS_REPORT, report);
    }
  }
  await servers?.stop();
});

describe(`chaos (${size} messages per scenario)`, () => {
  for (const scenario of selected) {
    it(`${scenario.name}: ${scenario.fault}`, async (ctx) => {
      const result = await runScenario(servers!, scenario, { size, drainTimeoutMs, log });
      results.push(result);
      log(formatTable([result]).split("\n").slice(2).join("\n"));
      log(formatDetails(result));
      if (result.skipped) return ctx.skip(result.skipped);
      expect(result.failures).toEqual([]);
    }, scenarioTimeoutMs);
  }
});
