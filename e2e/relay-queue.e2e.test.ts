import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { eventually, freePort } from "@correo/testkit";
import { FakeMx } from "../services/relay-queue/test/fake-mx.js";
import { pop3, startCorreo, type Correo } from "./harness.js";

/**
 * The relay queue as `pnpm start` runs it, with the retry policy shrunk to seconds
 * (RELAY_* variables): a remote MX that is down and comes back gets each message once;
 * one that keeps answering 451 makes the messages expire, and the sender finds exactly
 * one RFC 3464 report per recipient in its mailbox, read over POP3; the queue is managed
 * with `pnpm correo queue` and the admin API.
 */
const policy: Record<string, string> = {
  RELAY_MIN_BACKOFF: "500ms",
  RELAY_MAX_BACKOFF: "1s",
  RELAY_MAX_LIFETIME: "10s",
  RELAY_DSN_INTERVAL: "500ms",
  RELAY_CONNECT_TIMEOUT: "2s",
  RELAY_CONNECTION_IDLE: "1s",
};
let correo: Correo;
let token: string;
let adminKey: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  // The harness passes its own environment to `pnpm start`; the relay policy rides along.
  for (const [k, v] of Object.entries(policy)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  correo = await startCorreo("e2e-relay");
  await correo.cli(["domain", "add", "hosted.test"]);
  await correo.cli(["account", "add", "ana@hosted.test", "--password-stdin"], "ana-secret-1\n");
  token = (await correo.cli(["apikey", "create", "--domain", "hosted.test"])).api_key.token;
  adminKey = (await correo.cli(["adminkey", "create", "--description", "e2e-relay"])).admin_key.token;
});

afterAll(async () => {
  await correo?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function send(to: string[], subject: string): Promise<{ id: string; recipients: { address: string; delivery_id: string }[] }> {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ from: "ana@hosted.test", to, subject, text: "Store and forward.\r\n" }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as any;
}

async function states(ids: string[]): Promise<{ state: string; attempts: number; last_response: string | null }[]> {
  const { rows } = await correo.infra.pool.query("SELECT state, attempts, last_response FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY recipient", [ids]);
  return rows;
}

/** Every message in ana's mailbox, parsed. */
async function anaMailbox() {
  const box = await pop3(correo, "ana@hosted.test", "ana-secret-1", "list");
  const out = [];
  for (let i = 1; i <= box.stat[0]; i++) {
    const raw = Buffer.from((await pop3(correo, "ana@hosted.test", "ana-secret-1", "retr", i)).message, "base64");
    out.push({ raw: raw.toString("utf8"), mail: await simpleParser(raw) });
  }
  return out;
}

describe("relay queue, end to end", () => {
  it("gets each message to a remote MX that was down and comes back exactly once", async () => {
    const port = await freePort();
    await correo.cli(["transport", "add", "later.test", `127.0.0.1:${port}`]);
    const sent = await Promise.all([0, 1, 2, 3, 4].map((i) => send([`user${i}@later.test`], `down and back ${i}`)));
    const ids = sent.map((s) => s.recipients[0]!.delivery_id);
    // Nobody listens: refused, deferred, retried.
    await eventually(async () => (await states(ids)).every((d) => d.state === "deferred" && d.attempts >= 1), 15_000, "deferred");
    expect((await states(ids))[0]!.last_response).toMatch(/4\.4\.1 /);
    const mx = new FakeMx();
    await mx.listen(port);
    try {
      await eventually(async () => (await states(ids)).every((d) => d.state === "delivered"), 20_000, "delivered after the MX came back");
      for (let i = 0; i < 5; i++) expect(mx.for(`user${i}@later.test`)).toHaveLength(1);
      // …and stays at once: nothing is sent again afterwards.
      await new Promise((r) => setTimeout(r, 2500));
      expect(mx.received.length).toBe(5);
    } finally {
      await mx.close();
    }
  });

  it("expires a message that keeps getting 451 and returns exactly one DSN per recipient to the sender's mailbox", async () => {
    const mx = new FakeMx();
    const port = await freePort();
    await mx.listen(port);
    mx.replies.set("busy1@busy.test", 451);
    mx.replies.set("busy2@busy.test", 451);
    await correo.cli(["transport", "add", "busy.test", `127.0.0.1:${port}`]);
    try {
      const sent = await send(["busy1@busy.test", "busy2@busy.test"], "will expire");
      const ids = sent.recipients.map((r) => r.delivery_id);
      await eventually(async () => (await states(ids)).every((d) => d.state === "expired"), 30_000, "expired");
      const reports = await eventually(async () => {
        const box = (await anaMailbox()).filter((m) => m.mail.subject === "Undelivered Mail Returned to Sender" && m.raw.includes("busy.test"));
        return box.length > 0 ? box : undefined;
      }, 20_000, "DSN in ana's mailbox");
      await new Promise((r) => setTimeout(r, 2000)); // a second report would have come by now
      const again = (await anaMailbox()).filter((m) => m.raw.includes("Final-Recipient: rfc822; busy1@busy.test"));
      expect(again).toHaveLength(1);
      const dsn = reports[0]!.raw;
      expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;/);
      for (const r of ["busy1@busy.test", "busy2@busy.test"]) {
        expect(dsn).toMatch(new RegExp(`Final-Recipient: rfc822; ${r}\\r\\nAction: failed\\r\\nStatus: 5\\.4\\.7\\r\\nRemote-MTA: dns; 127\\.0\\.0\\.1\\r\\nDiagnostic-Code: smtp; 451 4\\.3\\.0 mailbox busy, try again later\\r\\n`));
      }
      expect(dsn).toContain("Subject: will expire"); // the original, returned
      expect(reports[0]!.mail.from?.value[0]?.address).toMatch(/^MAILER-DAEMON@/);
      const { rows } = await correo.infra.pool.query("SELECT envelope_from, source FROM messages WHERE source = 'dsn'");
      expect(rows.every((r) => r.envelope_from === "")).toBe(true);
    } finally {
      await mx.close();
    }
  });

  it("lists, holds, releases and deletes queued mail with `correo queue` and the admin API", async () => {
    const port = await freePort();
    await correo.cli(["transport", "add", "held.test", `127.0.0.1:${port}`]);
    const sent = await send(["x@held.test", "y@held.test"], "held one");
    const [x, y] = sent.recipients.map((r) => r.delivery_id);
    await eventually(async () => (await states([x!, y!])).every((d) => d.state === "deferred"), 15_000, "deferred");
    const listed = await correo.cli(["queue", "list", "--domain=held.test", "--reason=refused"]);
    expect(listed.queue.map((d: any) => d.recipient).sort()).toEqual(["x@held.test", "y@held.test"]);
    expect((await correo.cli(["queue", "hold", "--domain=held.test"])).deliveries.sort()).toEqual([x, y].sort());
    expect((await correo.cli(["queue", "list", "--domain=held.test"])).queue).toHaveLength(0);
    const shown = await correo.cli(["queue", "show", x!]);
    expect(shown.delivery.held).toBe(true);
    expect(shown.delivery.events.map((e: any) => e.detail)).toContain("held by the administrator");

    const api = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${correo.ports.http}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const heldList = (await (await api("GET", "/v1/admin/queue?domain=held.test&held=only")).json()) as any;
    expect(heldList.queue).toHaveLength(2);
    // limit is query text: it must be read as a number, and out of range is a 400.
    const one = (await (await api("GET", "/v1/admin/queue?domain=held.test&held=only&limit=1")).json()) as any;
    expect(one.queue).toHaveLength(1);
    expect((await api("GET", "/v1/admin/queue?limit=0")).status).toBe(400);
    const bad = await api("GET", "/v1/admin/queue?older_than=soon");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].field).toBe("querystring.older_than");
    const released = (await (await api("POST", "/v1/admin/queue/release", { delivery_id: y })).json()) as any;
    expect(released.deliveries).toEqual([y]);
    const deleted = (await (await api("POST", "/v1/admin/queue/delete", { delivery_id: x, bounce: true })).json()) as any;
    expect(deleted.deliveries).toEqual([x]);
    // y is tried again (released), x ends bounced and its sender hears of it.
    await eventually(async () => (await states([y!]))[0]!.attempts >= 2, 15_000, "released delivery retried");
    expect((await states([x!]))[0]!.state).toBe("bounced");
    await eventually(async () => (await anaMailbox()).some((m) => m.raw.includes("Final-Recipient: rfc822; x@held.test")), 20_000, "bounce DSN");
    expect((await correo.cli(["queue", "delete", y!])).deliveries).toEqual([y]);
  });
});
