import { SMTPServer } from "smtp-server";

/**
 * The remote MX of the chaos suite (smtp-server, in this process): the first time it
 * sees a message's token it answers the final dot with 451 4.3.0, every later time
 * with 250 — so every remote delivery is deferred once and sits in the relay's retry
 * schedule before it arrives. It counts what it took (250) per token: a count above
 * one is a duplicate at the remote. It also counts the connections open at once.
 */
export class RemoteSink {
  /** Token → how many times the sink took the message (answered 250). */
  readonly taken = new Map<string, number>();
  /** Token → how many times it deferred it. */
  readonly deferred = new Map<string, number>();
  /**
   * Called when a message is about to be taken, before the 250 is written; whatever it
   * returns is awaited before the reply (and `afterReply` right after it).
   */
  beforeReply?: (token: string) => Promise<void> | void;
  afterReply?: (token: string) => void;
  /** SMTP connections open now, and the most that were ever open at once. */
  open = 0;
  maxOpen = 0;
  /**
   * Transactions under way now (from MAIL FROM to the reply to the final dot, or to the
   * connection's end), and the most at once: what a relay's destination concurrency bounds.
   */
  inTransaction = 0;
  maxInTransaction = 0;
  private readonly transacting = new Set<string>();
  private readonly server: SMTPServer;

  constructor(private readonly tokenPattern: RegExp) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onConnect: (_session, cb) => {
        this.maxOpen = Math.max(this.maxOpen, ++this.open);
        cb();
      },
      onClose: (session) => {
        this.open--;
        this.transactionOver(session.id);
      },
      onMailFrom: (_address, session, cb) => {
        if (!this.transacting.has(session.id)) {
          this.transacting.add(session.id);
          this.maxInTransaction = Math.max(this.maxInTransaction, ++this.inTransaction);
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const token = this.tokenPattern.exec(Buffer.concat(chunks).toString("utf8"))?.[0];
          if (!token) {
            this.transactionOver(session.id);
            return cb(null, "2.0.0 taken (no token)");
          }
          if (!this.deferred.has(token)) {
            this.deferred.set(token, 1);
            this.transactionOver(session.id);
            return cb(Object.assign(new Error("4.3.0 not now, try again later"), { responseCode: 451 }));
          }
          this.taken.set(token, (this.taken.get(token) ?? 0) + 1);
          void Promise.resolve(this.beforeReply?.(token)).then(() => {
            this.transactionOver(session.id);
            cb(null, "2.0.0 taken by the chaos sink");
            this.afterReply?.(token);
          });
        });
      },
    });
    this.server.on("error", () => undefined);
  }

  private transactionOver(sessionId: string): void {
    if (this.transacting.delete(sessionId)) this.inTransaction--;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, "127.0.0.1", () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
