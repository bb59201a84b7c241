import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import type { MessageSubmitted } from "@correo/contracts";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, repoRoot, type IsolatedInfra } from "@correo/testkit";

/** `correo dlq …` as an operator runs it: the built CLI against the real RabbitMQ, this suite's prefix. */
const log = createLogger("test", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let failing = true;
const consumed: MessageSubmitted[] = [];

function correo(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), ...args], { env: { ...process.env, ...infra.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const json = async (args: string[]) => {
  const r = await correo([...args, "--json"]);
  return { code: r.code, doc: JSON.parse(r.stdout) };
};

beforeAll(async () => {
  infra = await isolatedInfra("cli-dlq");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log, deliveryLimit: 1 });
  await broker.connect();
  await broker.consume("routing", ["message.submitted"], async (event) => {
    if (failing) throw new Error("failing on purpose");
    consumed.push(event);
  });
});
afterAll(async () => {
  await broker?.close();
  await infra?.cleanup();
});

describe("correo dlq", () => {
  const poison: MessageSubmitted = {
    type: "message.submitted",
    version: 1,
    messageId: randomUUID(),
    blobId: "d".repeat(64),
    envelopeFrom: "ana@example.test",
    deliveries: [{ deliveryId: randomUUID(), recipient: "bob@example.test" }],
    submittedAt: new Date().toISOString(),
  };

  it("lists, shows, requeues (then consumed) and drops dead letters; --json has the admin API's snake_case fields", async () => {
    await broker.publishRaw("message.submitted", Buffer.from("not json at all"), {});
    await broker.publish(poison);
    const listed = await eventually(async () => {
      const r = await json(["dlq", "list"]);
      return r.doc.total === 2 ? r.doc : false;
    }, 20_000, "two dead letters");
    const [invalid, limit] = listed.dead_letters;
    expect(invalid).toMatchObject({ routing_key: "message.submitted", event_type: null, reason: "rejected", death_count: 1, size: 15 });
    expect(limit).toMatchObject({ reason: "delivery_limit", original_queue: `${infra.prefix}.routing` });

    const human = await correo(["dlq", "list"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/ID\s+ROUTING_KEY\s+REASON/);
    expect(human.stdout).toContain("2 of 2 dead letters");

    const shown = await json(["dlq", "show", limit.id]);
    expect(shown.doc.dead_letter).toMatchObject({ id: limit.id, event: poison });
    expect((await correo(["dlq", "show", invalid.id])).stdout).toContain("not json at all");

    failing = false;
    const requeued = await json(["dlq", "requeue", limit.id]);
    expect(requeued).toMatchObject({ code: 0, doc: { requeued: { id: limit.id } } });
    await eventually(async () => consumed.find((e) => e.messageId === poison.messageId), 10_000, "requeued event consumed");

    expect(await json(["dlq", "drop", invalid.id])).toMatchObject({ code: 0, doc: { dropped: { id: invalid.id } } });
    expect((await json(["dlq", "list"])).doc).toMatchObject({ total: 0, dead_letters: [] });
    expect(await json(["dlq", "show", invalid.id])).toMatchObject({ code: 1, doc: { error: { code: "not_found" } } });
  });

  it("a requeue killed at any moment loses nothing: the event is consumed, or still dead-lettered, or both", async () => {
    const outcomes: string[] = [];
    for (const delayMs of [0, 150, 300, 400, 500, 600, 800]) {
      failing = true;
      const event: MessageSubmitted = { ...poison, messageId: randomUUID() };
      await broker.publish(event);
      const dead = await eventually(async () => {
        const r = await json(["dlq", "list"]);
        return (r.doc.dead_letters as { id: string }[])[0] ?? false;
      }, 20_000, "dead-lettered");
      const shown = await json(["dlq", "show", dead.id]);
      expect(shown.doc.dead_letter.event.messageId).toBe(event.messageId);
      failing = false;
      const child = spawn(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), "dlq", "requeue", dead.id], {
        env: { ...process.env, ...infra.env },
        stdio: "ignore",
      });
      const exited = new Promise((r) => child.on("exit", r));
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill("SIGKILL");
      await exited;
      // RabbitMQ gives back what the dead connection held as soon as it sees the socket close.
      const where = await eventually(async () => {
        const listed = (await json(["dlq", "list"])).doc.dead_letters.some((d: { id: string }) => d.id === dead.id);
        const took = consumed.some((e) => e.messageId === event.messageId);
        return listed || took ? `${took ? "consumed" : ""}${listed && took ? "+" : ""}${listed ? "dead-lettered" : ""}` : false;
      }, 10_000, `event ${event.messageId} somewhere`);
      outcomes.push(`${delayMs} ms: ${where}`);
      // Leave the queue empty for the next round.
      if (where.includes("dead-lettered")) await json(["dlq", "drop", dead.id]);
    }
    expect(outcomes).toHaveLength(7);
  });

  it("exits 69 when RabbitMQ is unreachable, 2 for a bad --limit", async () => {
    const down = await correo(["dlq", "list"], { AMQP_URL: "amqp://guest:guest@127.0.0.1:1" });
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(/RabbitMQ is unreachable/);
    expect((await correo(["dlq", "list", "--limit", "many"])).code).toBe(2);
  });

  it("needs no PostgreSQL: with it unreachable, dlq list still answers from RabbitMQ", async () => {
    const r = await correo(["dlq", "list", "--json"], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/correo" });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ offset: 0, limit: 50, dead_letters: expect.any(Array) });
  });
});
