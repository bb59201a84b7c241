import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedInfra, terminateBackends, type IsolatedInfra } from "@correo/testkit";
import {
  addAccount,
  addAlias,
  addDomain,
  addTransport,
  DirectoryCache,
  removeAlias,
  setAccountEnabled,
  setInboundPolicy,
  setPassword,
} from "../src/index.js";

/** The directory cache against a real PostgreSQL: NOTIFY from migration 026's triggers keeps it true. */
let infra: IsolatedInfra;
const caches: DirectoryCache[] = [];

beforeAll(async () => {
  infra = await isolatedInfra("directory-cache");
  await addDomain(infra.pool, "cache.test");
  await addAccount(infra.pool, "ana@cache.test", "long enough pass");
});

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  await infra?.cleanup();
});

async function startedCache(opts: { ttlMs?: number; reconnectMs?: number; app?: string } = {}): Promise<DirectoryCache> {
  const cache = new DirectoryCache(infra.pool, {
    ttlMs: opts.ttlMs ?? 60_000,
    databaseUrl: infra.databaseUrl,
    applicationName: opts.app ?? "directory-cache-test",
    reconnectMs: opts.reconnectMs ?? 50,
  });
  caches.push(cache);
  await cache.start();
  return cache;
}

async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("DirectoryCache", () => {
  it("answers a repeated question from memory", async () => {
    const cache = await startedCache();
    expect(cache.active).toBe(true);
    const first = await cache.resolveRecipient("ana@cache.test");
    expect(first).toMatchObject({ kind: "local", address: "ana@cache.test" });
    expect(await cache.resolveRecipient("ana@cache.test")).toEqual(first);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it("forgets on every change that decides where mail goes: a new account, a disabled one, an alias, a policy, a transport", async () => {
    const cache = await startedCache();
    const changed = async (change: () => Promise<unknown>) => {
      const before = cache.stats.invalidations;
      await change();
      await until(() => cache.stats.invalidations > before);
    };
    expect(await cache.resolveRecipient("bo@cache.test")).toEqual({ kind: "unknown", domain: "cache.test" });
    await changed(() => addAccount(infra.pool, "bo@cache.test", "long enough pass"));
    expect(await cache.resolveRecipient("bo@cache.test")).toMatchObject({ kind: "local", address: "bo@cache.test" });

    await changed(() => setAccountEnabled(infra.pool, "bo@cache.test", false));
    expect(await cache.resolveRecipient("bo@cache.test")).toMatchObject({ kind: "disabled" });

    expect(await cache.resolveRecipient("team@cache.test")).toMatchObject({ kind: "unknown" });
    await changed(() => addAlias(infra.pool, "team@cache.test", ["ana@cache.test"]));
    expect(await cache.resolveRecipient("team@cache.test")).toMatchObject({ kind: "alias", targets: ["ana@cache.test"] });
    await changed(() => removeAlias(infra.pool, "team@cache.test"));
    expect(await cache.resolveRecipient("team@cache.test")).toMatchObject({ kind: "unknown" });

    expect((await cache.inboundPolicies(["cache.test"])).get("cache.test")).toBeNull();
    await changed(() => setInboundPolicy(infra.pool, "cache.test", "report-only"));
    expect((await cache.inboundPolicies(["cache.test"])).get("cache.test")).toBe("report-only");

    expect(await cache.findTransport("partner.test")).toBeUndefined();
    await changed(() => addTransport(infra.pool, "partner.test", "smtp.partner.test", 2525));
    expect(await cache.findTransport("partner.test")).toMatchObject({ host: "smtp.partner.test", port: 2525 });
  });

  it("is not emptied by a password change, which does not decide where mail goes", async () => {
    const cache = await startedCache();
    await cache.resolveRecipient("ana@cache.test");
    await setPassword(infra.pool, "ana@cache.test", "another long pass");
    // A change that does notify, after it, proves the first one would have arrived by now.
    await addDomain(infra.pool, "marker.test");
    await until(() => cache.stats.invalidations === 1);
  });

  it("asks the database while its LISTEN connection is down, and caches again once it is back", async () => {
    // Reconnecting after 3 s: the steps below run while it is down, however loaded the machine.
    const cache = await startedCache({ app: "directory-cache-lost", reconnectMs: 3_000 });
    await cache.resolveRecipient("ana@cache.test");
    expect(await terminateBackends(infra.databaseUrl, { applicationPrefix: "directory-cache-lost" })).toBe(1);
    await until(() => !cache.active);
    // Changed while nobody listened: the answer must still be the new one.
    await addAccount(infra.pool, "cy@cache.test", "long enough pass");
    expect(await cache.resolveRecipient("cy@cache.test")).toMatchObject({ kind: "local" });
    expect(cache.active).toBe(false);
    await until(() => cache.active);
    const misses = cache.stats.misses;
    await cache.resolveRecipient("cy@cache.test");
    await cache.resolveRecipient("cy@cache.test");
    expect(cache.stats.misses).toBe(misses + 1);
  });

  it("keeps nothing when DIRECTORY_CACHE_TTL is 0s, and an answer no longer than the TTL", async () => {
    const off = await startedCache({ ttlMs: 0 });
    expect(off.active).toBe(false);
    await off.resolveRecipient("ana@cache.test");
    await off.resolveRecipient("ana@cache.test");
    expect(off.stats).toMatchObject({ hits: 0 });

    const short = await startedCache({ ttlMs: 30 });
    await short.resolveRecipient("ana@cache.test");
    await new Promise((r) => setTimeout(r, 60));
    await short.resolveRecipient("ana@cache.test");
    expect(short.stats).toMatchObject({ hits: 0, misses: 2 });
  });
});
