import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

/**
 * A raw SMTP client for tests that must control every byte on the wire (smuggling,
 * pipelining, STARTTLS injection). Replies are read whole (multi-line included).
 */
export class SmtpWire {
  private buffer = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
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

  /** `localAddress` (e.g. 127.0.0.2, any of 127/8 on Linux) makes the client another address to the server. */
  static async open(port: number, implicitTls = false, localAddress?: string): Promise<SmtpWire> {
    const tcp = netConnect({ host: "127.0.0.1", port, localAddress });
    const socket = implicitTls ? tlsConnect({ socket: tcp, rejectUnauthorized: false }) : tcp;
    await new Promise<void>((resolve, reject) => {
      socket.once(implicitTls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    return new SmtpWire(socket);
  }

  write(text: string | Buffer): void {
    this.socket.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  }

  /** The next complete reply ("250-a\r\n250 b" → its lines), or "" when the server closed first. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].trimEnd();
      }
      if (this.closed) return "";
      if (Date.now() > deadline) throw new Error(`no SMTP reply within ${timeoutMs} ms; have ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Whatever arrived and was not read as a reply yet. */
  pending(): string {
    return this.buffer;
  }

  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
