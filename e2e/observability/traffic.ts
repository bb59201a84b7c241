import { createRequire } from "node:module";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { freePort, repoRoot } from "@correo/testkit";
import { pop3, type Correo } from "../harness.js";

/**
 * A remote MX for the relay: takes mail for `ok.test`; answers each `later.test`
 * recipient 451 once, then takes it (a retry); refuses every other recipient with
 * 550 5.1.1 (RFC 3463: bad destination mailbox address).
 */
export async function startRemoteMx(): Promise<{ port: number; received: string[][]; close(): Promise<void> }> {
  const port = await freePort();
  const received: string[][] = [];
  const deferredOnce = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith("@ok.test")) return cb();
      if (address.address.endsWith("@later.test")) {
        if (deferredOnce.has(address.address)) return cb();
        deferredOnce.add(address.address);
        const busy = new Error("4.3.0 try again later") as Error & { responseCode: number };
        busy.responseCode = 451;
        return cb(busy);
      }
      const err = new Error("5.1.1 no such mailbox here") as Error & { responseCode: number };
      err.responseCode = 550;
      cb(err);
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on("end", () => {
        received.push(session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function send(correo: Correo, token: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Publishes a document that is not a Correo event, which the consumer dead-letters at once. */
export async function publishPoison(correo: Correo): Promise<void> {
  // amqplib through a workspace package that depends on it (the e2e package does not).
  const amqp = createRequire(join(repoRoot, "packages", "testkit", "package.json"))("amqplib") as typeof import("amqplib");
  const conn = await amqp.connect(correo.infra.amqpUrl);
  try {
    const ch = await conn.createConfirmChannel();
    ch.publish(`${correo.infra.prefix}.mail`, "message.submitted", Buffer.from('{"type":"message.submitted","version":99}'));
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

/** POP3 sessions through Python's poplib: one that reads, one with a wrong password. */
export async function pop3Traffic(correo: Correo, user: string, password: string): Promise<void> {
  await pop3(correo, user, password, "list");
  await pop3(correo, user, "wrong-password", "list");
}
