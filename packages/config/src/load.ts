import type { Field } from "./fields.js";

export type Spec = Record<string, Field<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      "invalid configuration:\n" + problems.map((p) => `  ${p.variable} ${p.problem}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Reads every field of `spec` from `env`; reports all problems at once, naming each variable. */
export function loadConfig<S extends Spec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [key, f] of Object.entries(spec)) {
    const given = env[f.variable];
    const raw = given === undefined || given === "" ? f.fallback : given;
    if (raw === undefined) {
      problems.push({ variable: f.variable, problem: `is required (${f.description})` });
      continue;
    }
    const parsed = f.parse(raw);
    if (parsed.ok) out[key] = parsed.value;
    else problems.push({ variable: f.variable, problem: parsed.problem });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** The environment variables a spec reads, for docs and deployment checks. */
export function variablesOf(spec: Spec): string[] {
  return Object.values(spec).map((f) => f.variable);
}
