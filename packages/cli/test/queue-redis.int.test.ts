import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { RetrySchedule } from "@correo/queue";
import { freePort, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { runCli } from "./run-cli.js";

/**
 * `correo queue …` when Redis is unreachable (a real port where nothing listens). The
 * queue is PostgreSQL's: list and show read it and say that no retry happens meanwhile;
 * retry and release need the Redis schedule and exit 69 with nothing changed; hold and
 * delete are complete in PostgreSQL.
 */
let infra: IsolatedInfra;
let redisDown: Record<string, string>;
let redis: Redis;

beforeAll(async () => {
  infra = await isolatedInfra("cli-queue-redis");
  redisDown = { ...infra.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
  redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  redis?.disconnect();
  await infra?.cleanup();
});

async function deferred(recipient: string): Promise<string> {
  const blob = randomUUID().replace(/-/g, "").padEnd(64, "0");
  await infra.pool.query("INSERT INTO blobs (id, size, content) VALUES ($1, 1, 'x')", [blob]);
  const messageId = randomUUID();
  const id = randomUUID();
  await infra.pool.query("INSERT INTO messages (id, blob_id, envelope_from, size, source) VALUES ($1, $2, 'ana@hosted.test', 1, 'http')", [messageId, blob]);
  await infra.pool.query(
    `INSERT INTO deliveries (id, message_id, recipient, state, route, attempts, next_attempt_at, last_response)
     VALUES ($1, $2, $3, 'deferred', 'remote', 2, now() + interval '1 hour', '4.4.1 connection refused')`,
    [id, messageId, recipient],
  );
  return id;
}

const row = async (id: string) =>
  (await infra.pool.query<{ next_attempt_at: Date; held_at: Date | null; state: string }>("SELECT next_attempt_at, held_at, state FROM deliveries WHERE id = $1", [id])).rows[0]!;

describe("correo queue with Redis unreachable", () => {
  it("lists and shows the queue from PostgreSQL, warns that no retry is attempted until Redis is back, and exits 69", async () => {
    const id = await deferred("a@list.test");
    const list = await runCli(["queue", "list", "--domain", "list.test", "--json"], redisDown);
    expect(list.code).toBe(69);
    expect(list.json().queue.map((d: any) => d.id)).toEqual([id]);
    expect(list.stderr).toMatch(/warning: Redis is unreachable at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): relay-queue takes due retries from its schedule there, so none is attempted until it is back/);
    const human = await runCli(["queue", "show", id], redisDown);
    expect(human).toMatchObject({ code: 69, stdout: expect.stringContaining(`delivery    ${id}`), stderr: expect.stringContaining("Redis is unreachable") });
  });

  it.each(["retry", "release"])("queue %s exits 69 and changes nothing", async (verb) => {
    const id = await deferred(`a@${verb}.test`);
    if (verb === "release") await infra.pool.query("UPDATE deliveries SET held_at = now() WHERE id = $1", [id]);
    const before = await row(id);
    const r = await runCli(["queue", verb, "--domain", `${verb}.test`], redisDown);
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/^correo: Redis is unreachable at .*nothing was changed/);
    expect(await row(id)).toEqual(before);
    const json = await runCli(["queue", verb, id, "--json"], redisDown);
    expect(json.code).toBe(69);
    expect(json.json().error).toMatchObject({ code: "unavailable", message: expect.stringMatching(/Redis is unreachable/) });
  });

  it("holds and deletes in PostgreSQL, which relay-queue reads before every attempt, and exits 69 for the unreachable schedule", async () => {
    const id = await deferred("a@hold.test");
    const held = await runCli(["queue", "hold", id, "--json"], redisDown);
    expect(held).toMatchObject({ code: 69, stderr: expect.stringContaining("the change is in PostgreSQL") });
    expect(held.json()).toEqual({ deliveries: [id] });
    expect((await row(id)).held_at).not.toBeNull();
    const deleted = await runCli(["queue", "delete", id, "--json"], redisDown);
    expect(deleted.code).toBe(69);
    expect((await row(id)).state).toBe("bounced");
  });
});

describe("correo queue with Redis up", () => {
  it("retry makes the delivery due now in the schedule, with no warning", async () => {
    const id = await deferred("a@up.test");
    const before = Date.now();
    const r = await runCli(["queue", "retry", id], infra.env);
    expect(r).toMatchObject({ code: 0, stdout: "1 delivery due now\n", stderr: "" });
    const score = await new RetrySchedule(redis, infra.prefix).score(id);
    expect(score).toBeGreaterThanOrEqual(before - 1000);
    expect(score).toBeLessThanOrEqual(Date.now());
  });
});

describe("the command line, as a process", () => {
  it("exits 2 naming the nearest noun or flag", async () => {
    expect(await runCli(["domian", "list"], infra.env)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^correo: unknown command 'domian'; did you mean 'domain'\?\n/) });
    const flag = await runCli(["account", "add", "ana@hosted.test", "--pasword", "ana-secret-1"], infra.env);
    expect(flag).toMatchObject({ code: 2, stderr: expect.stringMatching(/^correo: unknown flag --pasword for 'account add'; did you mean --password\?\n/) });
    expect(await runCli(["account", "add", "--help"], infra.env)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: correo account add /) });
    expect(await runCli(["account"], infra.env)).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("correo account disable <address>") });
  });
});
