import { describe, expect, it } from "vitest";
import { AuthCache } from "../src/index.js";

describe("AuthCache", () => {
  it("keys on an HMAC under a per-process secret: no password, and another process's keys differ", () => {
    const a = new AuthCache({ ttlMs: 60_000 });
    const b = new AuthCache({ ttlMs: 60_000 });
    const key = a.key("ana@example.test", "correct horse battery");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain("horse");
    expect(a.key("ana@example.test", "correct horse battery")).toBe(key);
    expect(b.key("ana@example.test", "correct horse battery")).not.toBe(key);
    expect(a.key("ana@example.test", "correct horse batterz")).not.toBe(key);
    // The name and the password cannot trade characters into the same key.
    expect(a.key("ana@example.tes", "tcorrect horse battery")).not.toBe(key);
  });

  it("forgets an entry when its TTL has passed", () => {
    let now = 1_000;
    const cache = new AuthCache({ ttlMs: 5_000, now: () => now });
    cache.remember("k", 7, "scrypt$hash");
    now += 4_999;
    expect(cache.get("k")).toEqual({ accountId: 7, passwordHash: "scrypt$hash", expiresAt: 6_000 });
    now += 1;
    expect(cache.get("k")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = new AuthCache({ ttlMs: 60_000, maxEntries: 2 });
    cache.remember("a", 1, "h1");
    cache.remember("b", 2, "h2");
    expect(cache.get("a")?.accountId).toBe(1); // a is now the most recent
    cache.remember("c", 3, "h3");
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.accountId).toBe(1);
    expect(cache.get("c")?.accountId).toBe(3);
  });

  it("remembers nothing with a TTL of 0", () => {
    const cache = new AuthCache({ ttlMs: 0 });
    expect(cache.enabled).toBe(false);
    cache.remember("k", 1, "h");
    expect(cache.get("k")).toBeUndefined();
  });

  it("refuses a negative TTL and an empty size", () => {
    expect(() => new AuthCache({ ttlMs: -1 })).toThrow(RangeError);
    expect(() => new AuthCache({ ttlMs: 1, maxEntries: 0 })).toThrow(RangeError);
  });

  it("runs one verification for identical logins that arrive while it runs, and none is kept", async () => {
    const cache = new AuthCache({ ttlMs: 60_000 });
    let runs = 0;
    const pending: ((ok: boolean) => void)[] = [];
    const verify = () => {
      runs++;
      return new Promise<boolean>((resolve) => pending.push(resolve));
    };
    const together = [cache.verifyOnce("k", "h", verify), cache.verifyOnce("k", "h", verify), cache.verifyOnce("k", "other hash", verify)];
    expect(runs).toBe(2);
    for (const release of pending) release(false);
    expect(await Promise.all(together)).toEqual([false, false, false]);
    await cache.verifyOnce("k", "h", async () => (runs++, true));
    expect(runs).toBe(3);
  });
});
