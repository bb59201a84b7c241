import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serviceSpecs, variablesOf } from "../src/index.js";

// docs/operations.md documents every variable; keep it true to the code.
const doc = readFileSync(join(__dirname, "..", "..", "..", "docs", "operations.md"), "utf8");
const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));

describe("docs/operations.md", () => {
  it("documents every environment variable a service reads, and no other", () => {
    const read = new Set(Object.values(serviceSpecs).flatMap((spec) => variablesOf(spec)));
    expect([...read].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !read.has(v))).toEqual([]);
  });
});
