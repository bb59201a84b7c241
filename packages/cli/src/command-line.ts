import { parseArgs } from "node:util";
import { nearest } from "./suggest.js";
import type { Command, FlagSpec } from "./commands/types.js";

/**
 * The command line, read before anything is connected: `correo <noun> <verb> [args]
 * [flags]`, or a command without a noun (`correo doctor`). Pure: it returns what to
 * do, and main does it.
 */

/** Nouns and their verbs (`domain` → `add`, `list`, …); commands without a noun (`doctor`). */
export interface CommandTable {
  nouns: Record<string, Record<string, Command>>;
  commands: Record<string, Command>;
  /** One line per noun for the overview (a noun without one shows its verbs). */
  nounSummaries?: Record<string, string>;
}

export type CommandLine =
  | { kind: "help"; text: string; exitCode: 0 | 2 }
  | { kind: "usage"; message: string; help: string }
  | { kind: "run"; name: string; command: Command; args: string[]; flags: Record<string, string | boolean | undefined> };

export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: "boolean", help: "print one JSON document on stdout (errors too)" },
  help: { type: "boolean", help: "show this help" },
};

export function readCommandLine(argv: string[], table: CommandTable): CommandLine {
  const words = argv.map((a, i) => ({ a, i })).filter(({ a }) => !a.startsWith("-"));
  const wantsHelp = argv.includes("--help") || argv.includes("-h");
  let [first, second] = words;
  // `correo help`, `correo help account`, `correo help account add`: as --help.
  let asHelp = wantsHelp;
  if (first?.a === "help") {
    asHelp = true;
    [first, second] = [words[1], words[2]];
  }
  if (!first) return { kind: "help", text: overview(table), exitCode: asHelp ? 0 : 2 };

  const top = table.commands[first.a];
  if (top) return readFlags(first.a, top, argv.filter((_, i) => i !== first.i), asHelp);

  const verbs = table.nouns[first.a];
  if (!verbs) {
    const guess = nearest(first.a, [...Object.keys(table.nouns), ...Object.keys(table.commands)]);
    return { kind: "usage", message: `unknown command '${first.a}'${guess ? `; did you mean '${guess}'?` : ""}`, help: overview(table) };
  }
  if (!second) {
    const text = nounHelp(first.a, verbs, table);
    return asHelp ? { kind: "help", text, exitCode: 0 } : { kind: "usage", message: `'${first.a}' needs a verb`, help: text };
  }
  const command = verbs[second.a];
  if (!command) {
    const guess = nearest(second.a, Object.keys(verbs));
    return {
      kind: "usage",
      message: `'${first.a}' has no verb '${second.a}'${guess ? `; did you mean '${first.a} ${guess}'?` : ""}`,
      help: nounHelp(first.a, verbs, table),
    };
  }
  return readFlags(`${first.a} ${second.a}`, command, argv.filter((_, i) => i !== first.i && i !== second.i), asHelp);
}

function readFlags(name: string, command: Command, rest: string[], asHelp: boolean): CommandLine {
  if (asHelp) return { kind: "help", text: commandHelp(command), exitCode: 0 };
  const declared = { ...command.flags, ...GLOBAL_FLAGS };
  const options = Object.fromEntries(Object.entries(declared).map(([k, f]) => [k, { type: f.type }]));
  // Loose first, to name every unknown flag with a suggestion (strict parsing stops at
  // the first one, without one).
  const { tokens } = parseArgs({ args: rest, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== "option" || t.name in declared) continue;
    const guess = nearest(t.name, Object.keys(declared));
    return {
      kind: "usage",
      message: `unknown flag ${t.rawName} for '${name}'${guess ? `; did you mean --${guess}?` : ""}`,
      help: commandHelp(command),
    };
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    return { kind: "run", name, command, args: positionals, flags: values as Record<string, string | boolean | undefined> };
  } catch (err) {
    // node:util's own words: "Option '--quota <value>' argument missing", "… does not take an argument".
    return { kind: "usage", message: (err as Error).message, help: commandHelp(command) };
  }
}

export function overview(table: CommandTable): string {
  const lines = ["usage: correo <noun> <verb> [arguments] [--json]", "       correo <noun> --help   (its verbs)", "       correo <noun> <verb> --help   (its arguments and flags)", ""];
  const width = Math.max(...Object.keys(table.nouns).map((n) => n.length), ...Object.keys(table.commands).map((n) => n.length));
  for (const [noun, verbs] of Object.entries(table.nouns)) {
    lines.push(`  ${noun.padEnd(width)}  ${table.nounSummaries?.[noun] ?? Object.keys(verbs).join(", ")}`);
  }
  for (const [name, cmd] of Object.entries(table.commands)) lines.push(`  ${name.padEnd(width)}  ${cmd.summary}`);
  lines.push("", "Reads DATABASE_URL (default postgres://postgres@127.0.0.1:5432/correo).", "");
  return lines.join("\n");
}

export function nounHelp(noun: string, verbs: Record<string, Command>, table: CommandTable): string {
  const lines = [`correo ${noun}${table.nounSummaries?.[noun] ? `: ${table.nounSummaries[noun]}` : ""}`, ""];
  const width = Math.max(...Object.values(verbs).map((c) => c.usage.length));
  for (const cmd of Object.values(verbs)) {
    if (width <= 60) lines.push(`  correo ${cmd.usage.padEnd(width)}  ${cmd.summary}`);
    else lines.push(`  correo ${cmd.usage}`, `      ${cmd.summary}`);
  }
  lines.push("", `Details of one: correo ${noun} <verb> --help`, "");
  return lines.join("\n");
}

export function commandHelp(command: Command): string {
  const lines = [`usage: correo ${command.usage}`, "", command.summary, "", "flags:"];
  const entries = Object.entries({ ...command.flags, ...GLOBAL_FLAGS }).map(([k, f]) => [`--${k}${f.type === "string" ? ` ${f.value ?? "<value>"}` : ""}`, f.help] as const);
  const width = Math.max(...entries.map(([k]) => k.length));
  for (const [k, h] of entries) lines.push(`  ${k.padEnd(width)}  ${h}`);
  lines.push("");
  return lines.join("\n");
}
