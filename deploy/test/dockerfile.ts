// The root Dockerfile read as data: its stages, what each target inherits, the ENV,
// EXPOSE and the commands the build runs. deploy/test/compose.test.ts checks it against
// compose and the code; e2e/image-trees.e2e.test.ts runs what its stages run.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repoRoot = resolve(__dirname, "..", "..");

export interface Stage {
  name: string | undefined;
  base: string;
  instructions: { keyword: string; args: string }[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (keyword === "FROM") {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`cannot read 'FROM ${args}'`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

export const dockerfileStages = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));

/** The stage and the stages it is built FROM, nearest first. */
export function stageChain(target: string): Stage[] {
  const chain: Stage[] = [];
  let stage = dockerfileStages.find((s) => s.name === target);
  while (stage) {
    chain.push(stage);
    const base = stage.base;
    stage = dockerfileStages.find((s) => s.name === base);
  }
  return chain;
}

/** The value of the last `keyword` instruction that takes effect in `target`. */
export function effective(target: string, keyword: string): string | undefined {
  for (const stage of stageChain(target)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}

export function execForm(args: string | undefined): string[] {
  if (args === undefined) return [];
  return args.startsWith("[") ? (JSON.parse(args) as string[]) : ["/bin/sh", "-c", args];
}

/** The ENV of `target`'s image: every `ENV k=v …` of its chain, nearest stage winning. */
export function imageEnv(target: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const stage of stageChain(target).reverse()) {
    for (const i of stage.instructions.filter((i) => i.keyword === "ENV")) {
      for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, "");
    }
  }
  return env;
}

/**
 * The script the image writes to /usr/local/bin/correo, made by running that RUN's
 * printf here (so its quoting is what a shell makes of it).
 */
export function correoWrapper(target: string): string | undefined {
  const run = stageChain(target)
    .flatMap((st) => st.instructions.filter((i) => i.keyword === "RUN"))
    .find((i) => /printf .*>\s*\/usr\/local\/bin\/correo/.test(i.args));
  if (!run) return undefined;
  const printf = /^(printf .*?)>\s*\/usr\/local\/bin\/correo/.exec(run.args)![1]!;
  const out = spawnSync("/bin/sh", ["-c", printf], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`${printf}: ${out.stderr}`);
  return out.stdout;
}

export function exposedPorts(target: string): Set<number> {
  const ports = stageChain(target)
    .flatMap((s) => s.instructions.filter((i) => i.keyword === "EXPOSE"))
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.replace(/\/(tcp|udp)$/, "")));
  return new Set(ports);
}

/** The build stage's RUN that makes the deployed trees (`pnpm deploy … /prod/<dir>`). */
export function deployCommand(): string {
  const run = dockerfileStages
    .find((st) => st.name === "build")
    ?.instructions.find((i) => i.keyword === "RUN" && i.args.includes("pnpm deploy"));
  if (!run) throw new Error("the build stage runs no pnpm deploy");
  return run.args;
}
