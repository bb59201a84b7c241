import { describe, expect, it } from "vitest";
import { DestinationSlots, type AcquireSlot } from "../src/slots.js";

/** The Redis slot set's behaviour in memory: `limit` holders per destination. */
function slotSet(): { acquire: AcquireSlot; taken(d: string): number; takeElsewhere(d: string): () => void } {
  const holders = new Map<string, number>();
  const taken = (d: string) => holders.get(d) ?? 0;
  const free = (d: string) => void holders.set(d, taken(d) - 1);
  return {
    acquire: async (d, limit) => {
      if (taken(d) >= limit) return undefined;
      holders.set(d, taken(d) + 1);
      return async () => free(d);
    },
    taken,
    takeElsewhere: (d) => {
      holders.set(d, taken(d) + 1);
      return () => free(d);
    },
  };
}

const now = () => new Date();

describe("DestinationSlots", () => {
  it("hands out slots up to the limit", async () => {
    const set = slotSet();
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 0, maxWaitMs: 1000, pollMs: 10 });
    const a = await slots.acquire("d", 2, now, 60_000);
    const b = await slots.acquire("d", 2, now, 60_000);
    expect(a && b).toBeTruthy();
    expect(await slots.acquire("d", 2, now, 60_000)).toBeUndefined();
    expect(await slots.acquire("other", 2, now, 60_000)).toBeTruthy();
  });

  it("lets a delivery wait for a slot this copy holds and wakes it on release", async () => {
    const set = slotSet();
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 4, maxWaitMs: 5000, pollMs: 10 });
    const first = (await slots.acquire("d", 1, now, 60_000))!;
    const waiting = slots.acquire("d", 1, now, 60_000);
    let woke = false;
    void waiting.then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false);
    await first();
    const second = await waiting;
    expect(second).toBeTypeOf("function");
    expect(set.taken("d")).toBe(1);
    await second!();
    await second!(); // a second release frees nothing more
    expect(set.taken("d")).toBe(0);
  });

  it("asks again while other copies hold every slot, and gets one they free", async () => {
    const set = slotSet();
    const freeElsewhere = set.takeElsewhere("d");
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 4, maxWaitMs: 5000, pollMs: 10 });
    const waiting = slots.acquire("d", 1, now, 60_000);
    setTimeout(freeElsewhere, 50);
    expect(await waiting).toBeTypeOf("function");
  });

  it("gives up after the longest wait", async () => {
    const set = slotSet();
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 4, maxWaitMs: 50, pollMs: 10 });
    const held = (await slots.acquire("d", 1, now, 60_000))!;
    expect(await slots.acquire("d", 1, now, 60_000)).toBeUndefined();
    await held();
    // The timed-out waiter left no trace: the next one gets the free slot at once.
    expect(await slots.acquire("d", 1, now, 60_000)).toBeTypeOf("function");
  });

  it("keeps no more waiting than the waiting room holds", async () => {
    const set = slotSet();
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 1, maxWaitMs: 5000, pollMs: 10 });
    const held = (await slots.acquire("d", 1, now, 60_000))!;
    const waiter = slots.acquire("d", 1, now, 60_000);
    expect(await slots.acquire("d", 1, now, 60_000)).toBeUndefined();
    await held();
    expect(await waiter).toBeTypeOf("function");
  });

  it("ends every wait and hands out nothing more once closed", async () => {
    const set = slotSet();
    const slots = new DestinationSlots(set.acquire, { maxWaiting: 4, maxWaitMs: 60_000, pollMs: 60_000 });
    const held = (await slots.acquire("d", 1, now, 60_000))!;
    const waiting = slots.acquire("d", 1, now, 60_000);
    await new Promise((r) => setTimeout(r, 20)); // it is in the waiting room now
    const justArrived = slots.acquire("d", 1, now, 60_000);
    const t0 = Date.now();
    slots.close();
    expect(await waiting).toBeUndefined();
    expect(await justArrived).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000);
    await held();
    expect(await slots.acquire("d", 1, now, 60_000)).toBeUndefined();
  });

  it("keeps a released slot for the destination's next delivery without asking again, and gives it back when it stays idle", async () => {
    const set = slotSet();
    let asked = 0;
    const counting: AcquireSlot = async (...args) => (asked++, set.acquire(...args));
    const slots = new DestinationSlots(counting, { maxWaiting: 4, maxWaitMs: 1000, pollMs: 10, keepIdleMs: 50 });
    for (let i = 0; i < 5; i++) await (await slots.acquire("d", 1, now, 60_000))!();
    expect(asked).toBe(1);
    expect(set.taken("d")).toBe(1); // still this copy's, for the next delivery
    await new Promise((r) => setTimeout(r, 100));
    expect(set.taken("d")).toBe(0);
    // A kept slot about to expire in Redis is not reused for a long attempt.
    await (await slots.acquire("d", 1, now, 60_000))!();
    expect(await slots.acquire("d", 1, now, 10 * 60_000)).toBeTypeOf("function");
    expect(asked).toBe(3);
    slots.close();
  });
});
