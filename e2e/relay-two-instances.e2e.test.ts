import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually } from "@correo/testkit";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * Two Correo instances relaying to each other, each the other's MX (a transport to its
 * SMTP MX listener): mail from a.test reaches a mailbox of b.test, read over POP3 there;
 * mail for an unknown user of b.test is refused by b's MX with 550 5.1.1, and a's relay
 * returns the RFC 3464 report to the sender's mailbox on a.
 */
let a: Correo;
let b: Correo;
let tokenA: string;

beforeAll(async () => {
  a = await startCorreo("e2e-relay-a");
  b = await startCorreo("e2e-relay-b");
  await a.cli(["domain", "add", "a.test"]);
  await a.cli(["account", "add", "ana@a.test", "--password-stdin"], "ana-secret-1\n");
  tokenA = (await a.cli(["apikey", "create", "--domain", "a.test"])).api_key.token;
  await b.cli(["domain", "add", "b.test"]);
  await b.cli(["account", "add", "bob@b.test", "--password-stdin"], "bob-secret-1\n");
  await a.cli(["transport", "add", "b.test", `127.0.0.1:${b.env.SMTP_MX_PORT}`]);
  await b.cli(["transport", "add", "a.test", `127.0.0.1:${a.env.SMTP_MX_PORT}`]);
}, 240_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

async function sendFromA(to: string[], subject: string) {
  const res = await fetch(`http://127.0.0.1:${a.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokenA}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "Ana <ana@a.test>", to, subject, text: "De una instancia a otra.\r\n" }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as any;
}

async function mailbox(c: Correo, user: string, password: string) {
  const box = await pop3(c, user, password, "list");
  const out = [];
  for (let i = 1; i <= box.stat[0]; i++) {
    const raw = Buffer.from((await pop3(c, user, password, "retr", i)).message, "base64");
    out.push({ raw: raw.toString("utf8"), mail: await simpleParser(raw) });
  }
  return out;
}

describe("two Correo instances relaying to each other", () => {
  it("relays a message from a.test to a mailbox of b.test", async () => {
    const sent = await sendFromA(["bob@b.test"], "hola bob");
    const got = await eventually(async () => {
      const box = await mailbox(b, "bob@b.test", "bob-secret-1");
      return box.find((m) => m.mail.subject === "hola bob");
    }, 30_000, "message in bob's mailbox on b");
    expect(got.mail.messageId).toBe(sent.message_id);
    expect(got.mail.text).toContain("De una instancia a otra.");
    const { rows } = await a.infra.pool.query("SELECT state, last_response, remote_mta FROM deliveries WHERE message_id = $1", [sent.id]);
    expect(rows[0]).toMatchObject({ state: "delivered", remote_mta: "127.0.0.1" });
    expect(rows[0].last_response).toMatch(/^250 /);
  });

  it("returns b's 550 5.1.1 for an unknown user as a DSN in the sender's mailbox on a", async () => {
    await sendFromA(["nadie@b.test"], "to nobody");
    const report = await eventually(async () => {
      const box = await mailbox(a, "ana@a.test", "ana-secret-1");
      return box.find((m) => m.raw.includes("Final-Recipient: rfc822; nadie@b.test"));
    }, 30_000, "DSN in ana's mailbox on a");
    expect(report.mail.subject).toBe("Undelivered Mail Returned to Sender");
    expect(report.raw).toMatch(/Action: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; 127\.0\.0\.1\r\nDiagnostic-Code: smtp; 550 5\.1\.1 /);
    expect(report.raw).toContain("Subject: to nobody");
  });
});
