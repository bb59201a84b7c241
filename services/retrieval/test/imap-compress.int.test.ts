/**
 * RFC 4978 COMPRESS=DEFLATE on the wire: a client with its own raw DEFLATE streams (node:zlib)
 * against a real listener on a real PostgreSQL, in clear and after STARTTLS.
 */
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { once } from "node:events";
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addAccount, addDomain } from "@correo/directory";
import { MailStore } from "@correo/mailstore";
import { isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { startTestImapListener } from "./listeners.js";

const PASSWORD = "correct horse battery";
const USER = "squeezed@imap.test";
let infra: IsolatedInfra;
let listener: ImapListener;

/** A client that reads plain text until `compress()`, then raw DEFLATE both ways. */
class Client {
  private text = "";
  private deflate: DeflateRaw | undefined;
  private wake: (() => void) | undefined;
  constructor(private socket: Socket) {
    socket.on("data", this.onPlain);
  }
  private readonly onPlain = (chunk: Buffer) => this.received(chunk.toString("latin1"));
  private received(s: string): void {
    this.text += s;
    this.wake?.();
  }
  send(line: string): void {
    if (this.deflate) {
      this.deflate.write(line);
      this.deflate.flush(constants.Z_SYNC_FLUSH);
    } else this.socket.write(line);
  }
  async until(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.text);
      if (m) {
        const out = this.text.slice(0, m.index + m[0].length);
        this.text = this.text.slice(m.index + m[0].length);
        return out;
      }
      if (Date.now() > deadline) throw new Error(`no ${re} in ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
  }
  async run(line: string): Promise<string> {
    const tag = line.split(" ")[0]!;
    this.send(line + "\r\n");
    return this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
  }
  /** From the next octet on, both directions are raw DEFLATE (RFC 4978 §3). */
  compress(): void {
    this.socket.removeListener("data", this.onPlain);
    const inflate = createInflateRaw();
    this.socket.on("data", (c: Buffer) => inflate.write(c));
    inflate.on("data", (c: Buffer) => this.received(c.toString("latin1")));
    this.deflate = createDeflateRaw();
    this.deflate.on("data", (c: Buffer) => this.socket.write(c));
  }
  swap(socket: Socket): void {
    this.socket.removeListener("data", this.onPlain);
    this.socket = socket;
    socket.on("data", this.onPlain);
  }
  close(): void {
    this.socket.destroy();
  }
}

async function open(): Promise<{ client: Client; socket: Socket }> {
  const socket = connect({ host: "127.0.0.1", port: listener.port });
  await once(socket, "connect");
  const client = new Client(socket);
  await client.until(/^\* OK[^\r]*\r\n/);
  return { client, socket };
}

beforeAll(async () => {
  infra = await isolatedInfra("imapcompress");
  await addDomain(infra.pool, "imap.test");
  await addAccount(infra.pool, USER, PASSWORD);
  listener = await startTestImapListener({ infra, mail: new MailStore({ pool: infra.pool }), hostname: "imap.test", name: "imap-compress-test" });
});

afterAll(async () => {
  await listener?.close();
  await infra?.cleanup();
});

describe("COMPRESS=DEFLATE (RFC 4978)", () => {
  it("is offered after login; after the plain OK every command and answer is raw DEFLATE", async () => {
    const { client } = await open();
    expect(await client.run("C CAPABILITY")).not.toMatch(/COMPRESS=DEFLATE/);
    expect(await client.run("Z COMPRESS DEFLATE")).toMatch(/^Z BAD COMPRESS needs a login first/m);
    expect(await client.run(`L LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^L OK/m);
    expect(await client.run("C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* COMPRESS=DEFLATE/m);
    expect(await client.run("Z COMPRESS GZIP")).toMatch(/^Z BAD unknown compression mechanism GZIP/m);
    expect(await client.run("Z COMPRESS DEFLATE")).toMatch(/^Z OK DEFLATE active\r\n$/);
    client.compress();
    const raw = `Subject: squeezed\r\n\r\n${"compressible ".repeat(500)}\r\n`;
    expect(await client.run(`A APPEND INBOX {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK \[APPENDUID/m);
    expect(await client.run("S SELECT INBOX")).toMatch(/^\* 1 EXISTS/m);
    const body = await client.run("F FETCH 1 BODY.PEEK[]");
    expect(body).toContain(raw);
    expect(await client.run("C CAPABILITY")).not.toMatch(/COMPRESS=DEFLATE/);
    expect(await client.run("Z COMPRESS DEFLATE")).toMatch(/^Z NO \[COMPRESSIONACTIVE\]/m);
    expect(await client.run("O LOGOUT")).toMatch(/^\* BYE[^\r]*\r\nO OK/m);
    client.close();
  });

  it("works over TLS (STARTTLS first, then COMPRESS)", async () => {
    const { client, socket } = await open();
    expect(await client.run("T STARTTLS")).toMatch(/^T OK/m);
    const secure = tlsConnect({ socket, rejectUnauthorized: false, servername: "localhost" });
    await once(secure, "secureConnect");
    client.swap(secure);
    expect(await client.run(`L LOGIN ${USER} "${PASSWORD}"`)).toMatch(/^L OK/m);
    expect(await client.run("Z COMPRESS DEFLATE")).toMatch(/^Z OK/m);
    client.compress();
    expect(await client.run("N NOOP")).toMatch(/^N OK/m);
    expect(await client.run("S STATUS INBOX (MESSAGES)")).toMatch(/^\* STATUS "INBOX" \(MESSAGES \d+\)\r\nS OK/m);
    client.close();
  });
});
