import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "@correo/testkit";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON (for --json runs). */
  json(): any;
}

/** `correo …` as an operator runs it: the built CLI in its own process, with `env` over the test's. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, "packages", "cli", "dist", "main.js"), ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
    child.stdin.end(input ?? "");
  });
}
