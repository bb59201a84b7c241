import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { RawWire } from "@correo/testkit";

/**
 * A raw SMTP client for tests that must control every byte on the wire (smuggling,
 * pipelining, STARTTLS injection). Replies are read whole (multi-line included).
 */
export class SmtpWire extends RawWire {
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

  /** The next complete reply ("250-a\r\n250 b" → its lines), or "" when the server closed first. */
  async reply(timeoutMs = 10_000): Promise<string> {
    return (await this.take(/^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/, timeoutMs, "SMTP reply"))?.trimEnd() ?? "";
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Whatever arrived and was not read as a reply yet. */
  pending(): string {
    return this.buffered();
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
    this.attach(secure);
  }
}
