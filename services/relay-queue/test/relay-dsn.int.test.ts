import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import { addTransport } from "@correo/directory";
import { dkimTxtRecord, generateDkimKey, saveDkimKey } from "@correo/dkim";
import { getBlob, loadDeliveries, type Delivery } from "@correo/spool";
import { eventually, freePort } from "@correo/testkit";
import { deliverRemote } from "../src/deliver.js";
import { sweepDsns } from "../src/dsn-sweeper.js";
import { reconcileSchedule } from "../src/reconcile.js";
import { publishDue } from "../src/schedule.js";
import { FakeMx } from "./fake-mx.js";
import { DAY, HOUR, log, MINUTE, startCopy, startWorld, type RelayCopy, type World } from "./relay-world.js";

let world: World;
let copyA: RelayCopy;
let copyB: RelayCopy;
let mx: FakeMx;
let downPort: number;

beforeAll(async () => {
  world = await startWorld("relay-dsn");
  copyA = await startCopy(world.infra, world.clock);
  copyB = await startCopy(world.infra, world.clock);
  mx = new FakeMx();
  const port = await freePort();
  await mx.listen(port);
  await world.infra.pool.query("INSERT INTO domains (name) VALUES ('hosted.test')");
  await addTransport(world.infra.pool, "remote.test", "127.0.0.1", port);
  downPort = await freePort();
  await addTransport(world.infra.pool, "down.test", "127.0.0.1", downPort);
});

afterAll(async () => {
  await copyA?.close();
  await copyB?.close();
  await mx?.close();
  await world?.close();
});

async function deliveries(ids: string[]): Promise<Delivery[]> {
  return loadDeliveries(world.infra.pool, ids);
}
const ids = (e: { deliveries: { deliveryId: string }[] }) => e.deliveries.map((d) => d.deliveryId);

/** DSN messages in the spool (source 'dsn'), with their raw text and envelope. */
async function dsnMessages(to: string) {
  const { rows } = await world.infra.pool.query<{ id: string; blob_id: string; envelope_from: string; recipient: string }>(
    `SELECT m.id, m.blob_id, m.envelope_from, d.recipient FROM messages m JOIN deliveries d ON d.message_id = m.id
      WHERE m.source = 'dsn' AND d.recipient = $1 ORDER BY m.created_at`,
    [to],
  );
  return Promise.all(rows.map(async (r) => ({ ...r, raw: (await getBlob(world.infra.pool, r.blob_id))!.toString("utf8") })));
}

/** Both copies claim and publish what is due, at once, until nothing of `watch` is left to do. */
async function runDue(watch: string[]): Promise<void> {
  const redrive = (c: RelayCopy) => publishDue({ pool: world.infra.pool, broker: c.broker, schedule: c.deps.schedule, clock: world.clock, log });
  await Promise.all([redrive(copyA), redrive(copyB)]);
  // Wait until no watched delivery is due and unattempted (the consumers have run).
  await eventually(async () => {
    const ds = await deliveries(watch);
    // …and have finished (schedule updated, leases released).
    return copyA.active() === 0 && copyB.active() === 0 && ds.every((d) => d.nextAttemptAt === null || d.nextAttemptAt.getTime() > world.clock.t);
  }, 20_000, "due retries attempted").catch(async (err) => {
    const ds = await deliveries(watch);
    throw new Error(`${(err as Error).message} at ${world.clock.t}: ${JSON.stringify(ds.map((d) => [d.state, d.attempts, d.nextAttemptAt?.getTime(), d.lastResponse]))} consumed ${copyA.consumed.length}+${copyB.consumed.length} scores ${await Promise.all(watch.map((id) => copyA.deps.schedule.score(id)))}`);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the retry schedule, end to end on the test clock", () => {
  it("retries up to the lifetime, survives a FLUSHALL mid-run, and ends in exactly one DSN per recipient with Status and Diagnostic-Code", async () => {
    for (const r of ["busy1@remote.test", "busy2@remote.test"]) mx.replies.set(r, 451);
    const start = world.clock.t;
    const event = await world.submit(["busy1@remote.test", "busy2@remote.test"], { from: "ana@hosted.test" });
    await deliverRemote(copyA.deps, event);
    let rounds = 0;
    let flushed = false;
    for (;;) {
      const ds = await deliveries(ids(event));
      if (ds.every((d) => d.state === "expired")) break;
      expect(ds.every((d) => d.state === "deferred")).toBe(true);
      rounds++;
      if (!flushed && world.clock.t - start > 2 * DAY) {
        // FLUSHALL of this suite's keys (a real FLUSHALL would wipe the other suites running now).
        const keys = await copyA.redis.keys(`${world.infra.prefix}:*`);
        if (keys.length) await copyA.redis.del(...keys);
        expect(await copyA.deps.schedule.size()).toBe(0);
        await reconcileSchedule({ pool: world.infra.pool, schedule: copyA.deps.schedule, log });
        flushed = true;
      }
      world.clock.t = Math.max(...ds.map((d) => d.nextAttemptAt!.getTime()));
      await runDue(ids(event));
      expect(rounds).toBeLessThan(200);
    }
    expect(flushed).toBe(true);
    const done = await deliveries(ids(event));
    // ~1+2+4+…+32 minutes, then hourly for 5 days: about 125 attempts, none after the lifetime.
    expect(done[0]!.attempts).toBeGreaterThan(100);
    expect(world.clock.t - start).toBeLessThanOrEqual(5 * DAY);
    expect(done[0]!.lastResponse).toMatch(/^5\.4\.7 delivery time expired after \d+ attempts; last: 451 4\.3\.0/);
    expect(mx.for("busy1@remote.test")).toHaveLength(0);

    expect(await sweepDsns(world.dsnDeps())).toBe(1);
    expect(await sweepDsns(world.dsnDeps())).toBe(0);
    const dsns = await dsnMessages("ana@hosted.test");
    expect(dsns).toHaveLength(1);
    const dsn = dsns[0]!;
    expect(dsn.envelope_from).toBe("");
    for (const r of ["busy1@remote.test", "busy2@remote.test"]) {
      expect(dsn.raw.match(new RegExp(`Final-Recipient: rfc822; ${r}`, "g"))).toHaveLength(1);
    }
    expect(dsn.raw.match(/Action: failed\r\nStatus: 5\.4\.7\r\nRemote-MTA: dns; 127\.0\.0\.1\r\nDiagnostic-Code: smtp; 451 4\.3\.0 mailbox busy, try again later\r\n/g)).toHaveLength(2);
    const parsed = await simpleParser(Buffer.from(dsn.raw));
    expect(parsed.subject).toBe("Undelivered Mail Returned to Sender");
    expect(parsed.to && "text" in parsed.to ? parsed.to.text : "").toBe("ana@hosted.test");
    const states = await deliveries(ids(event));
    expect(states.map((d) => d)).toHaveLength(2);
    const { rows } = await world.infra.pool.query("SELECT dsn_state FROM deliveries WHERE id = ANY($1::uuid[])", [ids(event)]);
    expect(rows.map((r) => r.dsn_state)).toEqual(["sent", "sent"]);
  }, 120_000);

  it("gets each message to a remote that was down and comes back exactly once, parking the destination meanwhile", async () => {
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await world.submit([`user${i}@down.test`], { domain: "down.test" }));
    const all = events.flatMap(ids);
    for (const e of events.slice(0, 3)) await deliverRemote(copyA.deps, e);
    // Three attempts in a row with nobody answering: the destination is parked.
    const { rows } = await world.infra.pool.query("SELECT failures, parked_until FROM relay_destinations WHERE domain = 'down.test'");
    expect(rows[0].failures).toBe(3);
    expect(rows[0].parked_until.getTime()).toBeGreaterThan(world.clock.t);
    // The other two are not attempted: they wait for the parking to end, with the rest.
    for (const e of events.slice(3)) await deliverRemote(copyB.deps, e);
    const waiting = await deliveries(ids(events[4]!));
    expect(waiting[0]!.attempts).toBe(0);
    expect(waiting[0]!.lastResponse).toMatch(/^4\.4\.1 destination down\.test parked until/);
    expect(waiting[0]!.nextAttemptAt!.getTime()).toBe(rows[0].parked_until.getTime());

    // The host comes back.
    const back = new FakeMx();
    await back.listen(downPort);
    try {
      for (let round = 0; round < 10; round++) {
        const ds = await deliveries(all);
        if (ds.every((d) => d.state === "delivered")) break;
        world.clock.t = Math.max(...ds.filter((d) => d.nextAttemptAt).map((d) => d.nextAttemptAt!.getTime()));
        await runDue(all);
      }
      const ds = await deliveries(all);
      expect(ds.map((d) => d.state)).toEqual(Array(5).fill("delivered"));
      for (let i = 0; i < 5; i++) expect(back.for(`user${i}@down.test`)).toHaveLength(1);
      const after = await world.infra.pool.query("SELECT failures, parked_until FROM relay_destinations WHERE domain = 'down.test'");
      expect(after.rows[0]).toEqual({ failures: 0, parked_until: null });
    } finally {
      await back.close();
    }
  }, 60_000);

  it("never sends one delivery twice when two copies claim and consume the same work", async () => {
    const events = [];
    for (let i = 0; i < 20; i++) {
      mx.replies.set(`pair${i}@remote.test`, 451);
      events.push(await world.submit([`pair${i}@remote.test`]));
    }
    const all = events.flatMap(ids);
    // Both copies take every event at once.
    await Promise.all(events.flatMap((e) => [deliverRemote(copyA.deps, e), deliverRemote(copyB.deps, e)]));
    const first = await deliveries(all);
    // Each was tried once, or put back untried when the destination's 10 slots were taken.
    expect(first.every((d) => d.state === "deferred" && d.attempts <= 1)).toBe(true);
    expect(first.filter((d) => d.attempts === 1).length).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 20; i++) mx.replies.delete(`pair${i}@remote.test`);
    // Both copies' claim loops run at the same moment, and the events are also re-published by hand.
    world.clock.t = Math.max(...first.map((d) => d.nextAttemptAt!.getTime()));
    await Promise.all([runDue(all), ...events.map((e) => copyB.broker.publish(e))]);
    for (let round = 0; round < 20; round++) {
      const ds = await deliveries(all);
      if (ds.every((d) => d.state === "delivered")) break;
      world.clock.t = Math.max(world.clock.t, ...ds.filter((d) => d.nextAttemptAt).map((d) => d.nextAttemptAt!.getTime()));
      await runDue(all);
    }
    expect((await deliveries(all)).map((d) => d.state)).toEqual(Array(20).fill("delivered"));
    for (let i = 0; i < 20; i++) expect(mx.for(`pair${i}@remote.test`)).toHaveLength(1);
    expect(copyA.consumed.length + copyB.consumed.length).toBeGreaterThan(20);
  }, 60_000);
});

describe("DSNs honour NOTIFY, RET and the null sender", () => {
  it("sends a delay warning after RELAY_DELAY_WARNING only to a sender who asked, once", async () => {
    mx.replies.set("slow@remote.test", 451);
    const event = await world.submit(["slow@remote.test"], {
      from: "bea@hosted.test",
      recipientParams: { "slow@remote.test": { notify: ["DELAY", "FAILURE"], orcpt: "rfc822;Slow@remote.test" } },
      dsn: { ret: "HDRS", envid: "ENV+2B42" },
    });
    await deliverRemote(copyA.deps, event);
    expect(await sweepDsns(world.dsnDeps())).toBe(0);
    world.clock.t += 4 * HOUR;
    expect(await sweepDsns(world.dsnDeps())).toBe(1);
    world.clock.t += HOUR;
    expect(await sweepDsns(world.dsnDeps())).toBe(0);
    const [dsn] = await dsnMessages("bea@hosted.test");
    expect(dsn!.raw).toContain("Subject: Delayed Mail (still being retried)");
    expect(dsn!.raw).toContain("Action: delayed\r\nStatus: 4.3.0\r\n");
    expect(dsn!.raw).toContain("Original-Recipient: rfc822; Slow@remote.test");
    expect(dsn!.raw).toContain("Original-Envelope-Id: ENV+42");
    expect(dsn!.raw).toMatch(/Will-Retry-Until: \w{3}, \d\d \w{3} 2026 /);
    expect(dsn!.raw).toContain("Content-Type: text/rfc822-headers");
    expect(dsn!.raw).not.toContain("Hello over SMTP.");
    mx.replies.delete("slow@remote.test");
  });

  it("reports SUCCESS when asked, bounces on 5xx by default, and never answers NEVER or the null sender", async () => {
    mx.replies.set("gone@remote.test", 550);
    const asked = await world.submit(["ok@remote.test", "gone@remote.test"], {
      from: "carla@hosted.test",
      recipientParams: { "ok@remote.test": { notify: ["SUCCESS"] } },
    });
    const never = await world.submit(["gone@remote.test"], { from: "dora@hosted.test", recipientParams: { "gone@remote.test": { notify: ["NEVER"] } } });
    const nullSender = await world.submit(["gone@remote.test"], { from: "eva@hosted.test", envelopeFrom: "" });
    for (const e of [asked, never, nullSender]) await deliverRemote(copyA.deps, e);
    expect(await sweepDsns(world.dsnDeps())).toBe(1);
    const [dsn] = await dsnMessages("carla@hosted.test");
    expect(dsn!.raw).toContain("Final-Recipient: rfc822; ok@remote.test\r\nAction: delivered\r\nStatus: 2.0.0");
    expect(dsn!.raw).toContain("Final-Recipient: rfc822; gone@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user here\r\n");
    expect(dsn!.raw).toContain("Content-Type: message/rfc822");
    expect(await dsnMessages("dora@hosted.test")).toHaveLength(0);
    expect(await dsnMessages("")).toHaveLength(0);
    const { rows } = await world.infra.pool.query("SELECT dsn_state FROM deliveries WHERE id = ANY($1::uuid[])", [[...ids(never), ...ids(nullSender)]]);
    expect(rows.map((r) => r.dsn_state)).toEqual(["none", "none"]);
    mx.replies.delete("gone@remote.test");
  });
});

describe("deferral rules", () => {
  it("does not retry sooner than a 4xx reply asks", async () => {
    mx.replies.set("grey@remote.test", 451);
    mx.texts.set("grey@remote.test", "4.7.1 greylisted, please try again in 10 minutes");
    const event = await world.submit(["grey@remote.test"]);
    await deliverRemote(copyA.deps, event);
    const [d] = await deliveries(ids(event));
    expect(d!.state).toBe("deferred");
    expect(d!.nextAttemptAt!.getTime()).toBe(world.clock.t + 10 * MINUTE);
    mx.replies.delete("grey@remote.test");
  });

  /**
   * Two one-recipient messages for a destination with one slot, each DATA taking 400 ms:
   * `a` on `first`, `b` on `second` 100 ms later. Closes the copies.
   */
  async function contend(first: RelayCopy, second: RelayCopy, tag: string) {
    mx.dataDelayMs = 400;
    try {
      const a = await world.submit([`${tag}1@remote.test`]);
      const b = await world.submit([`${tag}2@remote.test`]);
      const t0 = Date.now();
      await Promise.all([deliverRemote(first.deps, a), sleep(100).then(() => deliverRemote(second.deps, b))]);
      const ms = Date.now() - t0;
      const [da] = await deliveries(ids(a));
      const [db] = await deliveries(ids(b));
      return { da: da!, db: db!, ms };
    } finally {
      mx.dataDelayMs = 0;
      await first.close();
      if (second !== first) await second.close();
    }
  }
  const oneSlot = { destinationConcurrency: 1 };

  it("puts deliveries back, without an attempt, when no connection slot of the destination frees up in time", async () => {
    const slowA = await startCopy(world.infra, world.clock, oneSlot);
    const slowB = await startCopy(world.infra, world.clock, oneSlot, { maxWaiting: 8, maxWaitMs: 150, pollMs: 50 });
    const { da, db } = await contend(slowA, slowB, "slot");
    expect(da.state).toBe("delivered");
    expect(db.state).toBe("deferred");
    expect(db.attempts).toBe(0);
    expect(db.nextAttemptAt!.getTime() - world.clock.t).toBeLessThanOrEqual(2000);
  });

  it("waits for a slot another copy holds, and sends once that copy frees it", async () => {
    const { da, db, ms } = await contend(await startCopy(world.infra, world.clock, oneSlot), await startCopy(world.infra, world.clock, oneSlot), "other");
    expect(ms).toBeGreaterThanOrEqual(800);
    expect([da.state, da.attempts, db.state, db.attempts]).toEqual(["delivered", 1, "delivered", 1]);
  });

  it("waits in the copy for a slot the copy itself holds, and sends once it is free, one transaction at a time", async () => {
    const slow = await startCopy(world.infra, world.clock, oneSlot);
    const { da, db, ms } = await contend(slow, slow, "wait");
    // One slot: the second DATA began only after the first ended.
    expect(ms).toBeGreaterThanOrEqual(800);
    expect([da.state, da.attempts, db.state, db.attempts]).toEqual(["delivered", 1, "delivered", 1]);
  });

  it("puts a delivery back at once when the copy's waiting room is full", async () => {
    const slow = await startCopy(world.infra, world.clock, oneSlot, { maxWaiting: 0, maxWaitMs: 10_000, pollMs: 50 });
    const { db } = await contend(slow, slow, "full");
    expect([db.state, db.attempts]).toEqual(["deferred", 0]);
  });
});

describe("DKIM", () => {
  it("signs mail from a hosted domain with a key, and the signature verifies against the TXT record", async () => {
    const key = generateDkimKey();
    await saveDkimKey(world.infra.pool, "hosted.test", "correo1", key);
    const txt = dkimTxtRecord("hosted.test", "correo1", key.publicKey);
    const event = await world.submit(["signed@remote.test"], { from: "ana@hosted.test", source: "http" });
    await deliverRemote(copyA.deps, event);
    const got = mx.for("signed@remote.test")[0]!;
    expect(got.raw).toMatch(/^DKIM-Signature: .*d=hosted\.test/s);
    const result = await dkimVerify(Buffer.from(got.raw), {
      resolver: async (name: string, type: string) => {
        if (type === "TXT" && name === txt.name) return [[txt.value]];
        throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      },
      curTime: world.clock.now(),
    });
    expect(result.results[0]?.status.result).toBe("pass");
    await world.infra.pool.query("DELETE FROM dkim_keys");
    const unsigned = await world.submit(["unsigned@remote.test"], { from: "ana@hosted.test", source: "http" });
    await deliverRemote(copyA.deps, unsigned);
    expect(mx.for("unsigned@remote.test")[0]!.raw).not.toContain("DKIM-Signature");
  });

  it("does not sign mail that came in at the MX (no account, no API key), even when its From: domain has a key", async () => {
    // An alias forwarding a message from outside: signing it would vouch for a From: we never checked (RFC 6376 §1.1).
    await saveDkimKey(world.infra.pool, "hosted.test", "correo1", generateDkimKey());
    const fromOutside = await world.submit(["forwarded@remote.test"], { from: "ana@hosted.test" });
    await deliverRemote(copyA.deps, fromOutside);
    expect(mx.for("forwarded@remote.test")[0]!.raw).not.toContain("DKIM-Signature");
    const submitted = await world.submit(["submitted@remote.test"], { from: "ana@hosted.test", source: "http" });
    await deliverRemote(copyA.deps, submitted);
    expect(mx.for("submitted@remote.test")[0]!.raw).toMatch(/^DKIM-Signature: .*d=hosted\.test/s);
    await world.infra.pool.query("DELETE FROM dkim_keys");
  });
});
