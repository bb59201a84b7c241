import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { addAccount, addDomain, AuthCache } from "@correo/directory";
import { LoginThrottle } from "@correo/login-throttle";
import { MailStore } from "@correo/mailstore";
import { createLogger } from "@correo/telemetry";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { LineWire } from "./line-wire.js";
import { startRetrievalListeners, type RetrievalListeners } from "./listeners.js";

/**
 * Failed logins over IMAP, POP3 and HTTP Basic, against the real listeners and one
 * LoginThrottle on the real Redis: an attacker's address is refused after
 * MAX failures, the owner's right password from another address always gets in, and
 * an account's failures are answered later and later. Delays are small and only
 * their lower bounds are asserted (CI machines are noisy). The three listeners share
 * one login cache, as in the retrieval service: throttling works the same with it.
 */
const PASSWORD = "correct horse battery";
const DOMAIN = "throttle.test";
const MAX = 4;
const limits = { maxFailuresPerAddress: MAX, windowMs: 60_000, penaltyBaseMs: 100, penaltyMaxMs: 400 };

let infra: IsolatedInfra;
let redis: Redis;
let listeners: RetrievalListeners;
const authCache = new AuthCache({ ttlMs: 60_000 });

beforeAll(async () => {
  infra = await isolatedInfra("login-throttle");
  await addDomain(infra.pool, DOMAIN);
  for (const who of ["imap", "pop", "http", "cross", "cached"]) await addAccount(infra.pool, `${who}@${DOMAIN}`, PASSWORD);
  redis = new Redis(infra.redisUrl);
  const log = createLogger("retrieval-test", "silent");
  const logins = new LoginThrottle(redis, infra.prefix, limits, { log });
  listeners = await startRetrievalListeners({ infra, redis, mail: new MailStore({ pool: infra.pool }), logins, log, domain: DOMAIN, authCache });
});

afterAll(async () => {
  await listeners?.stop();
  redis?.disconnect();
  await infra?.cleanup();
});

/** One IMAP LOGIN from `from`; the tagged reply and how long it took. */
async function imapLogin(from: string, user: string, password: string): Promise<{ reply: string; ms: number }> {
  const wire = await LineWire.open(listeners.imapPort, from);
  await wire.until(/^\* OK[^\r\n]*\r\n/);
  const started = performance.now();
  wire.write(`a LOGIN "${user}" "${password}"\r\n`);
  const reply = await wire.until(/(^|\r\n)a (OK|NO|BAD)[^\r\n]*\r\n/);
  const ms = performance.now() - started;
  wire.close();
  return { reply: reply.trim().split("\r\n").at(-1)!, ms };
}

/** One POP3 USER/PASS from `from`; the PASS reply and how long it took. */
async function popLogin(from: string, user: string, password: string): Promise<{ reply: string; ms: number }> {
  const wire = await LineWire.open(listeners.pop3Port, from);
  await wire.until(/^\+OK[^\r\n]*\r\n/);
  wire.write(`USER ${user}\r\n`);
  await wire.until(/^[+-][^\r\n]*\r\n/);
  const started = performance.now();
  wire.write(`PASS ${password}\r\n`);
  const reply = await wire.until(/^[+-][^\r\n]*\r\n/);
  const ms = performance.now() - started;
  wire.write("QUIT\r\n");
  await wire.until(/^[+-][^\r\n]*\r\n/).catch(() => "");
  wire.close();
  return { reply: reply.trim(), ms };
}

/** GET /v1/folders with Basic credentials from `from`. */
function httpLogin(from: string, user: string, password: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: listeners.apiPort, path: "/v1/folders", localAddress: from, headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` } },
      (res) => {
        let raw = "";
        res.on("data", (d: Buffer) => (raw += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: raw ? JSON.parse(raw) : undefined, ms: performance.now() - started }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

type Login = (from: string, user: string, password: string) => Promise<{ ms: number }>;

/** MAX wrong guesses from `attacker`; their times. */
async function guesses(login: Login, attacker: string, user: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 1; i <= MAX; i++) times.push((await login(attacker, user, `guess-${i}`)).ms);
  return times;
}

/** 0, 100, 200, 400 ms for the account's 1st … 4th failure: lower bounds only. */
function expectGrowingDelays(times: number[]): void {
  expect(times[1]!).toBeGreaterThanOrEqual(90);
  expect(times[2]!).toBeGreaterThanOrEqual(180);
  expect(times[3]!).toBeGreaterThanOrEqual(360);
}

describe("IMAP LOGIN", () => {
  it("throttles the attacker's address, slows the account's failures, and lets the owner in from another address", async () => {
    const user = `imap@${DOMAIN}`;
    const times: number[] = [];
    for (let i = 1; i <= MAX; i++) {
      const r = await imapLogin("127.0.1.2", user, `guess-${i}`);
      expect(r.reply).toMatch(/^a NO \[AUTHENTICATIONFAILED\] /);
      times.push(r.ms);
    }
    expectGrowingDelays(times);
    for (let i = 0; i < 6; i++) {
      // Refused before the password is read, the right one included.
      expect((await imapLogin("127.0.1.2", user, i % 2 ? PASSWORD : "guess-more")).reply).toMatch(/^a NO \[UNAVAILABLE\] too many failed logins from your address, try again in \d+ seconds/);
    }
    expect((await imapLogin("127.0.1.3", user, PASSWORD)).reply).toMatch(/^a OK /);
  });

  it("applies to AUTHENTICATE PLAIN as to LOGIN", async () => {
    const user = `imap@${DOMAIN}`;
    const wire = await LineWire.open(listeners.imapPort, "127.0.1.2");
    await wire.until(/^\* OK[^\r\n]*\r\n/);
    wire.write(`b AUTHENTICATE PLAIN ${Buffer.from(`\0${user}\0${PASSWORD}`).toString("base64")}\r\n`);
    expect(await wire.until(/(^|\r\n)b (OK|NO|BAD)[^\r\n]*\r\n/)).toMatch(/b NO \[UNAVAILABLE\] /);
    wire.close();
  });
});

describe("POP3 USER/PASS and AUTH", () => {
  it("throttles the attacker's address, slows the account's failures, and lets the owner in from another address", async () => {
    const user = `pop@${DOMAIN}`;
    const times: number[] = [];
    for (let i = 1; i <= MAX; i++) {
      const r = await popLogin("127.0.2.2", user, `guess-${i}`);
      expect(r.reply).toMatch(/^-ERR \[AUTH\] /);
      times.push(r.ms);
    }
    expectGrowingDelays(times);
    for (let i = 0; i < 6; i++) {
      expect((await popLogin("127.0.2.2", user, i % 2 ? PASSWORD : "guess-more")).reply).toMatch(/^-ERR \[SYS\/TEMP\] too many failed logins from your address/);
    }
    const wire = await LineWire.open(listeners.pop3Port, "127.0.2.2");
    await wire.until(/^\+OK[^\r\n]*\r\n/);
    wire.write(`AUTH PLAIN ${Buffer.from(`\0${user}\0${PASSWORD}`).toString("base64")}\r\n`);
    expect(await wire.until(/^[+-][^\r\n]*\r\n/)).toMatch(/^-ERR \[SYS\/TEMP\] /);
    wire.close();
    expect((await popLogin("127.0.2.3", user, PASSWORD)).reply).toMatch(/^\+OK /);
  });
});

describe("HTTP mailbox API, Basic credentials", () => {
  it("answers a throttled address 429 with Retry-After, slows the account's failures, and lets the owner in from another address", async () => {
    const user = `http@${DOMAIN}`;
    const times: number[] = [];
    for (let i = 1; i <= MAX; i++) {
      const r = await httpLogin("127.0.3.2", user, `guess-${i}`);
      expect(r.status).toBe(401);
      times.push(r.ms);
    }
    expectGrowingDelays(times);
    for (let i = 0; i < 6; i++) {
      const r = await httpLogin("127.0.3.2", user, i % 2 ? PASSWORD : "guess-more");
      expect(r.status).toBe(429);
      expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
      expect(r.body.detail).toMatch(/too many failed logins from your address/);
    }
    const owner = await httpLogin("127.0.3.3", user, PASSWORD);
    expect(owner.status).toBe(200);
  });
});

describe("across protocols and connections", () => {
  it("counts one account's failures over IMAP, POP3 and HTTP together, and never locks the account", async () => {
    const user = `cross@${DOMAIN}`;
    await imapLogin("127.0.4.2", user, "g1"); // 0 ms
    await popLogin("127.0.4.3", user, "g2"); // 100 ms
    await httpLogin("127.0.4.4", user, "g3"); // 200 ms
    const fourth = await imapLogin("127.0.4.5", user, "g4"); // the account's 4th failure: 400 ms
    expect(fourth.reply).toMatch(/^a NO \[AUTHENTICATIONFAILED\] /);
    expect(fourth.ms).toBeGreaterThanOrEqual(360);
    // Four failures for the account from four addresses; its owner still gets in, over each protocol, from a fifth.
    expect((await imapLogin("127.0.4.6", user, PASSWORD)).reply).toMatch(/^a OK /);
    expect((await popLogin("127.0.4.6", user, PASSWORD)).reply).toMatch(/^\+OK /);
    expect((await httpLogin("127.0.4.6", user, PASSWORD)).status).toBe(200);
  });
});

describe("with the owner's login cached", () => {
  it("lets the owner in over IMAP, POP3 and HTTP from one cache entry, yet still hashes, counts and delays every wrong password and refuses a throttled address", async () => {
    const user = `cached@${DOMAIN}`;
    expect((await imapLogin("127.0.5.3", user, PASSWORD)).reply).toMatch(/^a OK /);
    const { hits, verified } = authCache.stats;
    // The same credentials over the other two protocols: from the cache, no scrypt.
    expect((await popLogin("127.0.5.3", user, PASSWORD)).reply).toMatch(/^\+OK /);
    expect((await httpLogin("127.0.5.3", user, PASSWORD)).status).toBe(200);
    expect(authCache.stats).toEqual({ hits: hits + 2, verified });

    const times = await guesses(imapLogin, "127.0.5.2", user);
    expectGrowingDelays(times);
    expect(authCache.stats).toEqual({ hits: hits + 2, verified: verified + MAX });
    // The right, cached password from the throttled address: refused before it is looked at.
    expect((await imapLogin("127.0.5.2", user, PASSWORD)).reply).toMatch(/^a NO \[UNAVAILABLE\] /);
    expect(authCache.stats.hits).toBe(hits + 2);
    expect((await imapLogin("127.0.5.3", user, PASSWORD)).reply).toMatch(/^a OK /);
    expect(authCache.stats.hits).toBe(hits + 3);
  });
});
