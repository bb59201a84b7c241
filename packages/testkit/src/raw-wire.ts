import type { Socket } from "node:net";

/**
 * The receiving half of a raw protocol client for tests that control every byte on the
 * wire: what the server sent, buffered as latin1 (one character an octet), and `take`,
 * which waits until a pattern matches it. Subclasses say what a reply is (an SMTP
 * reply, an IMAP tagged line, a POP3 status line) and how they connect.
 */
export abstract class RawWire {
  private buffer = "";
  private waiters: (() => void)[] = [];
  closed = false;

  protected constructor(public socket: Socket) {
    this.attach(socket);
  }

  /** Reads from `socket` from now on (after a STARTTLS upgrade, the TLS socket over the old one). */
  protected attach(socket: Socket): void {
    this.socket = socket;
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString("latin1");
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Strings go out as latin1, so a test's "\xff" is the octet 0xFF. */
  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /**
   * Everything received up to and including the first match of `end`, taken off the
   * buffer; undefined when the connection closed first. Throws after `timeoutMs`
   * without a match, naming `what` was awaited and the tail of what came.
   */
  protected async take(end: RegExp, timeoutMs: number, what: string): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = end.exec(this.buffer);
      if (m) {
        const upTo = m.index + m[0].length;
        const taken = this.buffer.slice(0, upTo);
        this.buffer = this.buffer.slice(upTo);
        return taken;
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; have ${JSON.stringify(this.buffer.slice(-500))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** What is buffered and not taken yet. */
  protected buffered(): string {
    return this.buffer;
  }

  /** Takes everything buffered now. */
  protected takeAll(): string {
    const b = this.buffer;
    this.buffer = "";
    return b;
  }

  close(): void {
    this.socket.destroy();
  }
}
