import { describe, expect, it } from "vitest";
import { SUITE_QUEUE_SUFFIXES } from "@correo/testkit";
import { topology } from "../src/topology.js";

describe("the topology and the tests' cleanup", () => {
  it("every queue a prefix declares is one the test cleanup deletes", () => {
    const t = topology("p");
    const declared = [...Object.values(t.queues).map((q) => q.name), t.deadLetterQueue].map((n) => n.slice("p.".length)).sort();
    expect([...SUITE_QUEUE_SUFFIXES].sort()).toEqual(declared);
  });
});
