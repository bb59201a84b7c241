import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { RetrySchedule } from "../src/index.js";

let infra: IsolatedInfra;
let redis: Redis;
let schedule: RetrySchedule;

beforeAll(async () => {
  infra = await isolatedInfra("queue-slots");
  redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
  schedule = new RetrySchedule(redis, infra.prefix);
});

afterAll(async () => {
  redis?.disconnect();
  await infra?.cleanup();
});

// Times are explicit (a far-future base), so nothing here depends on the wall clock.
const T = Date.parse("2100-01-01T00:00:00Z");
// TTLs of a minute: the key's own Redis expiry (relative, real time) never ends mid-test.
const S = 60;
const at = (ms: number) => new Date(T + ms * S);
const TTL = 1000 * S;

describe("destination slots with renewable expiry", () => {
  it("extends a held slot, so it still counts after its first TTL; a lapsed one is not brought back", async () => {
    const held = await schedule.acquireSlot("renew.test", 1, at(0), TTL);
    expect(held).toBeDefined();
    expect(await schedule.renewSlots([held!], at(600), TTL)).toEqual([true]);
    // Past the first TTL (1000 × S) but within the renewed one (1600 × S): the only slot is taken.
    expect(await schedule.acquireSlot("renew.test", 1, at(1200), TTL)).toBeUndefined();
    // Not renewed again: at 1600 × S it lapses, and a renewal after that does not revive it.
    expect(await schedule.renewSlots([held!], at(1700), TTL)).toEqual([false]);
    const other = await schedule.acquireSlot("renew.test", 1, at(1700), TTL);
    expect(other).toBeDefined();
    expect(await schedule.renewSlots([held!, other!], at(1800), TTL)).toEqual([false, true]);
    await other!();
    expect(await schedule.renewSlots([other!], at(1900), TTL)).toEqual([false]);
  });
});
