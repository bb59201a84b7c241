import { describe, expect, it } from "vitest";
import { ConnectionSlots } from "../src/connection-slots.js";

describe("connection slots shared by a protocol's listeners", () => {
  it("gives out at most max slots and takes one back when a session ends", () => {
    const slots = new ConnectionSlots(2);
    expect([slots.take(), slots.take(), slots.take()]).toEqual([true, true, false]);
    expect(slots.inUse).toBe(2);
    slots.give();
    expect(slots.take()).toBe(true);
    expect(slots.take()).toBe(false);
  });

  it("never counts below zero", () => {
    const slots = new ConnectionSlots(1);
    slots.give();
    expect(slots.inUse).toBe(0);
    expect([slots.take(), slots.take()]).toEqual([true, false]);
  });
});
