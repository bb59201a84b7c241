import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { freePort, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { LoginThrottle } from "../src/index.js";

/** The Redis side of the login throttle, on the real Redis: what is counted, for how long, and without Redis. */
let infra: IsolatedInfra;
let redis: Redis;
const limits = { maxFailuresPerAddress: 3, windowMs: 2000, penaltyBaseMs: 40, penaltyMaxMs: 100 };
const wrong = async () => undefined;
const right = async () => ({ id: 1 });

beforeAll(async () => {
  infra = await isolatedInfra("login-throttle-redis");
  redis = new Redis(infra.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await infra?.cleanup();
});

describe("LoginThrottle on Redis", () => {
  it("refuses an address after its failures for the rest of the window, and never the account elsewhere", async () => {
    const t = new LoginThrottle(redis, infra.prefix, limits);
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await t.attempt("192.0.2.1", "Ana@Example.test", wrong));
    expect(outcomes.map((o) => o.outcome)).toEqual(["failed", "failed", "failed", "refused"]);
    expect(outcomes.slice(0, 3).map((o) => (o.outcome === "failed" ? o.delayMs : -1))).toEqual([0, 40, 80]);
    const refused = outcomes[3]!;
    expect(refused.outcome === "refused" && refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.outcome === "refused" && refused.retryAfterMs).toBeLessThanOrEqual(2000);
    // The same account (any case) from another address: the right password is in.
    expect(await t.attempt("192.0.2.2", "ana@example.test", right)).toEqual({ outcome: "ok", account: { id: 1 } });
    // ...and a wrong one there is delayed by the account's count, capped.
    expect(await t.attempt("192.0.2.2", "ANA@example.test", wrong)).toEqual({ outcome: "failed", delayMs: 100 });
  });

  it("counts an IPv6 /64 as one client and IPv4-mapped addresses as IPv4", async () => {
    const t = new LoginThrottle(redis, infra.prefix, limits);
    await t.attempt("2001:db8:5:6::1", "v6@example.test", wrong);
    await t.attempt("2001:db8:5:6:ffff::2", "v6@example.test", wrong);
    await t.attempt("2001:db8:5:6:1:2:3:4", "v6@example.test", wrong);
    expect((await t.gate("2001:db8:5:6::99")).verdict).toBe("refuse");
    expect((await t.gate("2001:db8:5:7::1")).verdict).toBe("check");
    await t.attempt("::ffff:198.51.100.4", "v4@example.test", wrong);
    expect(await redis.get(t.addressKey("198.51.100.4"))).toBe("1");
  });

  it("lets every counter expire a window after its latest failure", async () => {
    const t = new LoginThrottle(redis, infra.prefix, limits);
    await t.attempt("192.0.2.9", "exp@example.test", wrong);
    const ttl = await redis.pttl(t.addressKey("192.0.2.9"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    expect(await redis.pttl(t.accountKey("exp@example.test"))).toBeGreaterThan(0);
  });

  it("without Redis, still checks the password and answers a failure after the longest delay", async () => {
    const dead = new Redis({ host: "127.0.0.1", port: await freePort(), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    dead.on("error", () => undefined);
    const warnings: string[] = [];
    const t = new LoginThrottle(dead, infra.prefix, limits, { log: { warn: (_o, msg) => void warnings.push(msg) }, redisTimeoutMs: 500 });
    expect(await t.attempt("192.0.2.20", "ana@example.test", right)).toEqual({ outcome: "ok", account: { id: 1 } });
    expect(await t.attempt("192.0.2.20", "ana@example.test", wrong)).toEqual({ outcome: "failed", delayMs: 100 });
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    dead.disconnect();
  });
});
