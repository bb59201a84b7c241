import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendMessage } from "../src/smtp-client.js";

/**
 * RFC 2920: when the server offers PIPELINING, the envelope (MAIL, every RCPT) and
 * DATA go out in one write, without waiting for each reply. A raw server records the
 * bytes as they arrive, which no SMTP library would show us.
 */
let server: Server;
let port = 0;
const received: string[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    socket.write("220 pipeline.test ESMTP\r\n");
    let buffer = "";
    let inData = false;
    socket.on("data", (chunk) => {
      received.push(chunk.toString("latin1"));
      buffer += chunk.toString("latin1");
      let end: number;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            socket.write("250 2.0.0 queued\r\n");
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") socket.write("250-pipeline.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        else if (verb === "DATA") {
          socket.write("354 go ahead\r\n");
          inData = true;
        } else if (verb === "QUIT") socket.end("221 2.0.0 bye\r\n");
        else socket.write("250 2.1.0 ok\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("outbound SMTP", () => {
  it("pipelines MAIL, every RCPT and DATA in one write when the server offers PIPELINING", async () => {
    const recipients = ["a@pipeline.test", "b@pipeline.test", "c@pipeline.test"];
    const result = await sendMessage({
      targets: [{ host: "pipeline.test", address: "127.0.0.1", port }],
      envelopeFrom: "sender@example.test",
      recipients,
      raw: Buffer.from("Subject: pipelined\r\n\r\nhello\r\n"),
      heloName: "mx.correo.test",
      connectTimeoutMs: 5000,
      hop: { tls: "none" },
    });
    expect([...result.verdicts.values()].map((v) => v.outcome)).toEqual(["delivered", "delivered", "delivered"]);
    const envelope = received.find((chunk) => chunk.startsWith("MAIL FROM:"));
    expect(envelope).toBe(
      "MAIL FROM:<sender@example.test>\r\n" + recipients.map((r) => `RCPT TO:<${r}>\r\n`).join("") + "DATA\r\n",
    );
  });
});
