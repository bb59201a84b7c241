import { describe, expect, it } from "vitest";
import type { RecipientStatus } from "@correo/directory";
import { expandAlias } from "../src/expand.js";

// A directory as a table: alias → targets; accounts; everything else is another domain.
function directory(aliases: Record<string, string[]>, accounts: string[]) {
  const lookups: string[] = [];
  const lookup = async (address: string): Promise<RecipientStatus> => {
    lookups.push(address);
    const key = address.toLowerCase();
    if (aliases[key]) return { kind: "alias", address: key, targets: aliases[key]!, catchAll: false };
    const i = accounts.indexOf(key);
    if (i >= 0) return { kind: "local", accountId: i + 1, address: key };
    return key.endsWith("@example.test") ? { kind: "unknown", domain: "example.test" } : { kind: "not-hosted", domain: key.split("@")[1]! };
  };
  return { lookup, lookups };
}

const leaves = (e: { leaves: { address: string }[] }) => e.leaves.map((l) => l.address);

describe("alias expansion", () => {
  it("expands nested aliases to accounts and external addresses, in order", async () => {
    const { lookup } = directory({ "team@example.test": ["ana@example.test", "ops@example.test"], "ops@example.test": ["bea@example.test", "oncall@partner.test"] }, ["ana@example.test", "bea@example.test"]);
    const e = await expandAlias({ address: "team@example.test", targets: ["ana@example.test", "ops@example.test"] }, lookup);
    expect(leaves(e)).toEqual(["ana@example.test", "bea@example.test", "oncall@partner.test"]);
    expect(e.leaves.map((l) => l.status.kind)).toEqual(["local", "local", "not-hosted"]);
    expect(e.problems).toEqual([]);
  });

  it("keeps each final recipient once, however many lists name it, whatever its case", async () => {
    const { lookup, lookups } = directory({ "all@example.test": ["a@example.test", "b@example.test"], "a@example.test": ["ana@example.test"], "b@example.test": ["ANA@example.test", "a@example.test"] }, ["ana@example.test"]);
    const e = await expandAlias({ address: "all@example.test", targets: ["a@example.test", "b@example.test"] }, lookup);
    expect(leaves(e)).toEqual(["ana@example.test"]);
    expect(lookups.filter((l) => l === "a@example.test")).toHaveLength(1); // expanded once
  });

  it("stops at a loop and reports it with 5.4.6 material, delivering what is not part of it", async () => {
    const { lookup } = directory({ "a@example.test": ["b@example.test"], "b@example.test": ["a@example.test", "ana@example.test"] }, ["ana@example.test"]);
    const e = await expandAlias({ address: "a@example.test", targets: ["b@example.test"] }, lookup);
    expect(leaves(e)).toEqual(["ana@example.test"]);
    expect(e.problems).toEqual(["alias loop: a@example.test → b@example.test → a@example.test"]);
  });

  it("yields nothing for a pure loop", async () => {
    const { lookup } = directory({ "x@example.test": ["y@example.test"], "y@example.test": ["x@example.test"] }, []);
    const e = await expandAlias({ address: "x@example.test", targets: ["y@example.test"] }, lookup);
    expect(e.leaves).toEqual([]);
    expect(e.problems[0]).toMatch(/^alias loop/);
  });

  it("refuses to follow aliases deeper than the limit", async () => {
    const chain: Record<string, string[]> = {};
    for (let i = 0; i < 20; i++) chain[`l${i}@example.test`] = [`l${i + 1}@example.test`];
    const { lookup } = directory(chain, ["l20@example.test"]);
    const e = await expandAlias({ address: "l0@example.test", targets: ["l1@example.test"] }, lookup, { maxDepth: 5, maxRecipients: 100 });
    expect(e.leaves).toEqual([]);
    expect(e.problems).toEqual(["aliases nested deeper than 5 at l5@example.test"]);
    const deep = await expandAlias({ address: "l0@example.test", targets: ["l1@example.test"] }, lookup, { maxDepth: 25, maxRecipients: 100 });
    expect(leaves(deep)).toEqual(["l20@example.test"]);
  });

  it("caps the number of final recipients", async () => {
    const many = Array.from({ length: 10 }, (_, i) => `u${i}@far.test`);
    const { lookup } = directory({}, []);
    const e = await expandAlias({ address: "big@example.test", targets: many }, lookup, { maxDepth: 5, maxRecipients: 4 });
    expect(leaves(e)).toEqual(many.slice(0, 4));
    expect(e.problems).toEqual(["expansion stopped at 4 recipients"]);
  });
});
