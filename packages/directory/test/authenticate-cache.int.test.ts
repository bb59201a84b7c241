import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { addAccount, addDomain, authenticate, AuthCache, removeAccount, setAccountEnabled, setPassword, verifyPassword } from "../src/index.js";

/** The login cache against a real directory: scrypt calls are counted through the verifier. */
let infra: IsolatedInfra;
let scryptCalls = 0;
const verify = (password: string, hash: string) => {
  scryptCalls++;
  return verifyPassword(password, hash);
};

beforeAll(async () => {
  infra = await isolatedInfra("directory-auth-cache");
  await addDomain(infra.pool, "cache.test");
});

afterAll(async () => {
  await infra?.cleanup();
});

beforeEach(() => {
  scryptCalls = 0;
});

let n = 0;
async function freshAccount(password = "first password") {
  const address = `user${++n}@cache.test`;
  const account = await addAccount(infra.pool, address, password);
  return { address, account };
}

describe("authenticate with a login cache", () => {
  it("lets the same credentials in again without running scrypt", async () => {
    const { address, account } = await freshAccount();
    const cache = new AuthCache({ ttlMs: 60_000 });
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toMatchObject({ id: account.id, address });
    expect(scryptCalls).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toMatchObject({ id: account.id, address });
    }
    expect(scryptCalls).toBe(1);
  });

  it("runs scrypt once for logins with the same credentials that arrive together", async () => {
    const { address, account } = await freshAccount();
    const cache = new AuthCache({ ttlMs: 60_000 });
    const logins = await Promise.all(Array.from({ length: 5 }, () => authenticate(infra.pool, address, "first password", { cache, verify })));
    expect(logins.map((a) => a?.id)).toEqual(Array(5).fill(account.id));
    expect(scryptCalls).toBe(1);
  });

  it("never takes a wrong password from the cache, and never caches it", async () => {
    const { address } = await freshAccount();
    const cache = new AuthCache({ ttlMs: 60_000 });
    expect(await authenticate(infra.pool, address, "wrong password", { cache, verify })).toBeUndefined();
    expect(await authenticate(infra.pool, address, "wrong password", { cache, verify })).toBeUndefined();
    expect(scryptCalls).toBe(2);
    expect(cache.size).toBe(0);
    // With the right one cached, a wrong one is still hashed and refused.
    await authenticate(infra.pool, address, "first password", { cache, verify });
    expect(await authenticate(infra.pool, address, "First password", { cache, verify })).toBeUndefined();
    expect(await authenticate(infra.pool, address.toUpperCase(), "wrong password", { cache, verify })).toBeUndefined();
    expect(scryptCalls).toBe(5);
  });

  it("refuses the old password at once after a password change, and caches the new one", async () => {
    const { address, account } = await freshAccount();
    const cache = new AuthCache({ ttlMs: 60_000 });
    await authenticate(infra.pool, address, "first password", { cache, verify });
    await setPassword(infra.pool, address, "second password");
    scryptCalls = 0;
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toBeUndefined();
    expect(scryptCalls).toBe(1);
    expect(await authenticate(infra.pool, address, "second password", { cache, verify })).toMatchObject({ id: account.id });
    expect(await authenticate(infra.pool, address, "second password", { cache, verify })).toMatchObject({ id: account.id });
    expect(scryptCalls).toBe(2);
    // Even setting the same password again draws a new salt: the entry no longer matches.
    await setPassword(infra.pool, address, "second password");
    expect(await authenticate(infra.pool, address, "second password", { cache, verify })).toMatchObject({ id: account.id });
    expect(scryptCalls).toBe(3);
  });

  it("refuses a disabled account whose login is cached, and a re-created one until it is verified", async () => {
    const { address } = await freshAccount();
    const cache = new AuthCache({ ttlMs: 60_000 });
    await authenticate(infra.pool, address, "first password", { cache, verify });
    await setAccountEnabled(infra.pool, address, false);
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toBeUndefined();
    // Refused after the same scrypt as without the cache: no faster answer to reveal the password was right.
    expect(scryptCalls).toBe(2);
    await setAccountEnabled(infra.pool, address, true);
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toBeDefined();
    expect(scryptCalls).toBe(3);

    await removeAccount(infra.pool, address);
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toBeUndefined();
    const again = await addAccount(infra.pool, address, "first password");
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toMatchObject({ id: again.id });
    expect(scryptCalls).toBe(5);
  });

  it("verifies again once the TTL has passed, and every time with a TTL of 0", async () => {
    const { address } = await freshAccount();
    let now = Date.now();
    const cache = new AuthCache({ ttlMs: 300_000, now: () => now });
    await authenticate(infra.pool, address, "first password", { cache, verify });
    now += 299_999;
    await authenticate(infra.pool, address, "first password", { cache, verify });
    expect(scryptCalls).toBe(1);
    now += 1;
    expect(await authenticate(infra.pool, address, "first password", { cache, verify })).toBeDefined();
    expect(scryptCalls).toBe(2);

    const off = new AuthCache({ ttlMs: 0 });
    await authenticate(infra.pool, address, "first password", { cache: off, verify });
    await authenticate(infra.pool, address, "first password", { cache: off, verify });
    expect(scryptCalls).toBe(4);
    expect(off.size).toBe(0);
  });
});
