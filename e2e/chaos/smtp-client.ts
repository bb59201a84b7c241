import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * A small SMTP client for the load generator: one transaction per connection, the way
 * an MTA hands over a message, with an exact account of where it ended. It is written
 * out rather than taken from nodemailer so that the load can tell a connection that
 * dropped after the final dot (RFC 1047: the client cannot know whether the message
 * was taken) from one that dropped before it.
 */
export interface SmtpTransaction {
  host: string;
  port: number;
  /** STARTTLS and AUTH PLAIN before MAIL (the submission port). */
  auth?: { user: string; pass: string };
  from: string;
  to: string;
  /** The message, with CRLF line ends and no dot-stuffing needed (no line starts with "."). */
  data: string;
  timeoutMs: number;
}

export type SmtpOutcome =
  | { kind: "accepted"; code: number; text: string }
  /** The server answered something else than the next step wanted, at `stage`. */
  | { kind: "reply"; stage: string; code: number; text: string }
  /** The connection closed, failed or timed out; `afterDot` when the final dot had been sent. */
  | { kind: "dropped"; stage: string; afterDot: boolean; error: string };

interface Reply {
  code: number;
  text: string;
}

class ReplyReader {
  private buf = "";
  private lines: string[] = [];
  private waiting?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private failure?: Error;

  constructor(private socket: Socket) {
    this.attach(socket);
  }

  attach(socket: Socket): void {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buf += chunk;
      let i;
      while ((i = this.buf.indexOf("\r\n")) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      this.pump();
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      this.pump();
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
    socket.on("end", () => fail(new Error("connection closed by the server")));
  }

  detach(): void {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("error");
    this.socket.removeAllListeners("close");
    this.socket.removeAllListeners("end");
    this.socket.on("error", () => undefined);
  }

  private pump(): void {
    if (!this.waiting) return;
    // A reply is complete at its line whose fourth character is a space (RFC 5321 §4.2.1).
    const last = this.lines.findIndex((l) => l.length < 4 || l[3] !== "-");
    if (last >= 0) {
      const lines = this.lines.splice(0, last + 1);
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ code: Number(lines[0]!.slice(0, 3)) || 0, text: lines.map((l) => l.slice(4)).join(" ") });
    } else if (this.failure) {
      const w = this.waiting;
      this.waiting = undefined;
      w.reject(this.failure);
    }
  }

  next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.pump();
    });
  }
}

export async function sendMail(tx: SmtpTransaction): Promise<SmtpOutcome> {
  let socket: Socket = connect({ host: tx.host, port: tx.port, noDelay: true });
  let stage = "connect";
  let afterDot = false;
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${tx.timeoutMs} ms`)), tx.timeoutMs);
  const reader = new ReplyReader(socket);
  const step = async (command: string | undefined, name: string, want: number): Promise<Reply | SmtpOutcome> => {
    stage = name;
    if (command !== undefined) socket.write(command + "\r\n");
    const reply = await reader.next();
    return reply.code === want ? reply : { kind: "reply", stage: name, code: reply.code, text: reply.text };
  };
  const isOutcome = (r: Reply | SmtpOutcome): r is SmtpOutcome => "kind" in r;
  try {
    let r = await step(undefined, "greeting", 220);
    if (isOutcome(r)) return r;
    r = await step("EHLO load.chaos.test", "EHLO", 250);
    if (isOutcome(r)) return r;
    if (tx.auth) {
      r = await step("STARTTLS", "STARTTLS", 220);
      if (isOutcome(r)) return r;
      reader.detach();
      stage = "TLS";
      const plain = socket;
      socket = await new Promise<Socket>((resolve, reject) => {
        const secure = tlsConnect({ socket: plain, rejectUnauthorized: false, servername: "localhost" }, () => resolve(secure));
        secure.once("error", reject);
      });
      reader.attach(socket);
      r = await step("EHLO load.chaos.test", "EHLO", 250);
      if (isOutcome(r)) return r;
      const token = Buffer.from(`\0${tx.auth.user}\0${tx.auth.pass}`).toString("base64");
      r = await step(`AUTH PLAIN ${token}`, "AUTH", 235);
      if (isOutcome(r)) return r;
    }
    r = await step(`MAIL FROM:<${tx.from}>`, "MAIL", 250);
    if (isOutcome(r)) return r;
    r = await step(`RCPT TO:<${tx.to}>`, "RCPT", 250);
    if (isOutcome(r)) return r;
    r = await step("DATA", "DATA", 354);
    if (isOutcome(r)) return r;
    stage = "end of data";
    socket.write(tx.data.endsWith("\r\n") ? tx.data : tx.data + "\r\n");
    afterDot = true;
    r = await step(".", "end of data", 250);
    if (isOutcome(r)) return r;
    socket.write("QUIT\r\n");
    return { kind: "accepted", code: r.code, text: r.text };
  } catch (err) {
    return { kind: "dropped", stage, afterDot, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

/**
 * Whether a client can open a session now: the greeting, EHLO and (with `auth`)
 * STARTTLS and AUTH succeed. Returns the reply that stopped it otherwise.
 */
export async function probeSession(host: string, port: number, auth?: { user: string; pass: string }): Promise<string | undefined> {
  // A transaction that stops before MAIL: reuse sendMail's stages with an impossible sender.
  const out = await sendMail({ host, port, auth, from: "", to: "", data: "", timeoutMs: 15_000 });
  if (out.kind === "reply" && (out.stage === "MAIL" || out.stage === "RCPT")) return undefined;
  if (out.kind === "reply") return `${out.stage}: ${out.code} ${out.text}`;
  if (out.kind === "dropped") return `${out.stage}: ${out.error}`;
  return undefined;
}
