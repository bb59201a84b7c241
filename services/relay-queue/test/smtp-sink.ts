import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Postfix's smtp-sink as a remote MX: a real, fast SMTP server that keeps every message
 * it accepts as a file (-d). `extraArgs` script it: `-r rcpt` answers RCPT with 4xx,
 * `-f rcpt` with 5xx, `-q data` hangs up at DATA (smtp-sink(1)).
 */
export class SmtpSink {
  readonly dir: string;
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), "correo-sink-"));
    chmodSync(this.dir, 0o777); // smtp-sink drops to `nobody` when started as root
  }

  async start(extraArgs: string[] = []): Promise<void> {
    const user = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
    this.child = spawn("smtp-sink", [...user, "-d", join(this.dir, "%M."), "-m", "200", ...extraArgs, `127.0.0.1:${this.port}`, "256"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    this.child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`smtp-sink exited: ${err}`);
      if (await listening(this.port)) return;
      if (Date.now() > deadline) throw new Error(`smtp-sink not listening on ${this.port}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  /** Messages received: one file each, with smtp-sink's X-Rcpt-Args lines for the envelope. */
  messages(): { rcpt: string[]; mailFrom: string; text: string }[] {
    return readdirSync(this.dir).map((f) => {
      const text = readFileSync(join(this.dir, f), "utf8");
      const rcpt = [...text.matchAll(/^X-Rcpt-Args: <([^>]*)>/gm)].map((m) => m[1]!);
      const mailFrom = /^X-Mail-Args: <([^>]*)>/m.exec(text)?.[1] ?? "";
      return { rcpt, mailFrom, text };
    });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
