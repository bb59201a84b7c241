import { connect } from "node:net";
import { once } from "node:events";
import { RawWire } from "@correo/testkit";

/**
 * A raw line client for IMAP and POP3 tests that control every byte and the client's
 * own address (`localAddress`: any of 127/8 on Linux is another client to the server).
 */
export class LineWire extends RawWire {
  static async open(port: number, localAddress?: string): Promise<LineWire> {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    await once(socket, "connect");
    return new LineWire(socket);
  }

  /**
   * Everything received up to and including the first match of `end` (which should
   * end at a line end), taken off the buffer; "" when the connection closed first.
   */
  async until(end: RegExp, timeoutMs = 10_000): Promise<string> {
    return (await this.take(end, timeoutMs, `match for ${end}`)) ?? "";
  }

  /** What is buffered now, taken off. */
  drain(): string {
    return this.takeAll();
  }
}
