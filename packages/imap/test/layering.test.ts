/**
 * The IMAP package's layers, read from the source: the session dispatches to commands/,
 * commands/ parse with syntax/ and act through command.ts's CommandSession, and syntax/
 * is pure (tokens in, requests out). An import against that order fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(__dirname, "../src");

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) out.push(m[1]!);
  return out;
}

function filesIn(dir: string): [string, string[]][] {
  return readdirSync(join(SRC, dir))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => [`${dir}/${f}`, importsOf(readFileSync(join(SRC, dir, f), "utf8"))]);
}

const commands = filesIn("commands");
const syntax = filesIn("syntax");

describe("IMAP layering", () => {
  it("reads the imports of a file, types and re-exports included", () => {
    expect(importsOf('import type { A } from "../session.js";\nexport { b } from "./b.js";\nconst c = await import("node:fs");\nimport "./d.js";')).toEqual([
      "../session.js",
      "./b.js",
      "node:fs",
      "./d.js",
    ]);
  });

  it("finds the command and syntax files", () => {
    expect(commands.map(([f]) => f)).toContain("commands/fetch.ts");
    expect(syntax.map(([f]) => f)).toContain("syntax/select.ts");
  });

  it.each([...commands, ...syntax])("%s does not import the session (command.ts is the contract)", (_file, imports) => {
    expect(imports.filter((i) => /(^|\/)session(\.js)?$/.test(i))).toEqual([]);
  });

  it.each(syntax)("%s is pure: no commands, no session contract, no I/O", (_file, imports) => {
    expect(imports.filter((i) => i.startsWith("../commands/") || /(^|\/)command(\.js)?$/.test(i) || i.startsWith("node:"))).toEqual([]);
  });
});
