import { connect, type Socket } from "node:net";
import { once } from "node:events";

/**
 * A raw line client for IMAP and POP3 tests that control every byte and the client's
 * own address (`localAddress`: any of 127/8 on Linux is another client to the server).
 */
export class LineWire {
  private buffer = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString("latin1");
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on("error", () => undefined);
  }

  static async open(port: number, localAddress?: string): Promise<LineWire> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    await once(socket, "connect");
    return new LineWire(socket);
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /**
   * Everything received up to and including the first match of `end` (which should
   * end at a line end), taken off the buffer; "" when the connection closed first.
   */
  async until(end: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = end.exec(this.buffer);
      if (m) {
        const upTo = m.index + m[0].length;
        const taken = this.buffer.slice(0, upTo);
        this.buffer = this.buffer.slice(upTo);
        return taken;
      }
      if (this.closed) return "";
      if (Date.now() > deadline) throw new Error(`no match for ${end} within ${timeoutMs} ms; have ${JSON.stringify(this.buffer.slice(-500))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** What is buffered now, taken off. */
  drain(): string {
    const b = this.buffer;
    this.buffer = "";
    return b;
  }

  close(): void {
    this.socket.destroy();
  }
}
