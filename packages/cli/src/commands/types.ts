import type { Pool } from "@correo/db";
import type { Output } from "../output.js";

export interface CommandContext {
  pool: Pool;
  out: Output;
  args: string[];
  /** Only the flags the command declares (and --json), already checked. */
  flags: Record<string, string | boolean | undefined>;
}

/** A flag a command takes: `--name <value>` (or `--name=<value>`) for strings, `--name` for booleans. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** What the value is, for help: `<size>`, `<domain>`. */
  value?: string;
  help: string;
}

export interface Command {
  usage: string;
  summary: string;
  /**
   * Every flag the command takes besides --json and --help. Any other flag is refused
   * (exit 2) with the nearest declared one as a suggestion.
   */
  flags: Record<string, FlagSpec>;
  /**
   * false: the verb needs no PostgreSQL (dlq talks to RabbitMQ alone), so the CLI
   * neither probes nor migrates it first and `ctx.pool` is never connected.
   */
  database?: false;
  /** Resolves to the exit code when it is not 0 (doctor: 1 when something is to change). */
  run(ctx: CommandContext): Promise<void | number>;
}

/** A mistake in how the command was called; printed with the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function arg(ctx: CommandContext, index: number, name: string): string {
  const v = ctx.args[index];
  if (v === undefined || v === "") throw new UsageError(`missing <${name}>`);
  return v;
}

export function flag(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v === false || v === "" ? undefined : v;
}

/** A refusal that is not the directory's (the dead-letter queue busy, an event nothing would receive): exit 1. */
export class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "Refused";
  }
}
