import type { Pool } from "@correo/db";
import type { Output } from "../output.js";

export interface CommandContext {
  pool: Pool;
  out: Output;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
}

export interface Command {
  usage: string;
  summary: string;
  run(ctx: CommandContext): Promise<void>;
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
  return v === false ? undefined : v;
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
