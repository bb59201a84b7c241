import type { Socket } from "node:net";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";

export type Reply = 250 | 451 | 550;

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  heloName: string;
}

/**
 * A scriptable remote MX for the tests, on smtp-server: answers each RCPT TO with the
 * reply scripted for that recipient (250 unless told), or drops every connection.
 */
export class FakeMx {
  readonly received: ReceivedMessage[] = [];
  readonly replies = new Map<string, Reply>();
  /** Reply text (after the code) per recipient, instead of the default one. */
  readonly texts = new Map<string, string>();
  /** Milliseconds to wait before answering the final dot (a slow host). */
  dataDelayMs = 0;
  drop = false;
  connections = 0;
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      logger: false,
      onConnect: (_session, cb) => {
        this.connections++;
        cb();
      },
      onRcptTo: (address: SMTPServerAddress, _session, cb) => {
        const reply = this.replies.get(address.address.toLowerCase()) ?? 250;
        if (reply === 250) return cb();
        const text =
          this.texts.get(address.address.toLowerCase()) ?? (reply === 451 ? "4.3.0 mailbox busy, try again later" : "5.1.1 no such user here");
        cb(Object.assign(new Error(text), { responseCode: reply }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const from = session.envelope.mailFrom;
          this.received.push({
            from: from ? from.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            secure: session.secure,
            heloName: session.hostNameAppearsAs,
          });
          setTimeout(() => cb(null, "2.0.0 queued by fake mx"), this.dataDelayMs);
        });
      },
    });
    this.server.on("error", () => undefined);
    // A dropped connection: the socket is closed before the greeting.
    (this.server as unknown as { server: { on(e: "connection", l: (s: Socket) => void): void } }).server.on(
      "connection",
      (socket: Socket) => {
        if (this.drop) socket.destroy();
      },
    );
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, "127.0.0.1", () => resolve()));
  }

  for(recipient: string): ReceivedMessage[] {
    return this.received.filter((m) => m.to.map((t) => t.toLowerCase()).includes(recipient.toLowerCase()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
