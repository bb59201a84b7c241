import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort } from "@correo/testkit";
import { FakeMx } from "../services/relay-queue/test/fake-mx.js";
import { startReceiver } from "../packages/webhooks/test/receiver.js";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Webhooks as `pnpm start` runs them: a message sent over the HTTP API to a local
 * mailbox, a remote MX that takes it, one that defers and one that refuses it; a real
 * receiver that checks every signature and answers 500 twice before it answers 200
 * hears each event once, with the fields the docs promise; the events API and the CLI
 * show the same events and attempts.
 */
let correo: Correo;
let token: string;
let mx: FakeMx;
let secret = "";
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  correo = await startCorreo("e2e-webhooks", {
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_DISPATCH_INTERVAL: "100ms",
    RELAY_MIN_BACKOFF: "30s",
    RELAY_CONNECT_TIMEOUT: "2s",
  });
  await correo.cli(["domain", "add", "hosted.test"]);
  await correo.cli(["account", "add", "ana@hosted.test", "--password-stdin"], "ana-secret-1\n");
  token = (await correo.cli(["apikey", "create", "--domain", "hosted.test"])).api_key.token;
  mx = new FakeMx();
  const port = await freePort();
  await mx.listen(port);
  mx.replies.set("grey@remote.test", 451);
  mx.texts.set("grey@remote.test", "4.7.1 greylisted, come back later");
  mx.replies.set("gone@remote.test", 550);
  await correo.cli(["transport", "add", "remote.test", `127.0.0.1:${port}`]);
  receiver = await startReceiver({ secret: () => secret, failFirst: 2 });
});

afterAll(async () => {
  await receiver?.close();
  await mx?.close();
  await correo?.stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${correo.ports.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as any) };
};

describe("webhooks, end to end", () => {
  it("tells a signature-checking receiver of each delivery, deferral and bounce of a message sent over the API", async () => {
    const created = await api("POST", "/v1/webhooks", { url: receiver.url, description: "e2e" });
    expect(created.status).toBe(201);
    secret = created.body.webhook.secret;
    expect(secret).toMatch(/^whsec_/);
    expect((await api("GET", `/v1/webhooks/${created.body.webhook.id}`)).body.webhook.secret).toBeUndefined();

    const sent = await api("POST", "/v1/messages", {
      from: "ana@hosted.test",
      to: ["ana@hosted.test", "ok@remote.test", "grey@remote.test", "gone@remote.test"],
      subject: "hooks",
      text: "Tell me what became of it.\r\n",
      tags: ["e2e-hooks"],
      metadata: { order: "7" },
    });
    expect(sent.status).toBe(202);
    const messageId: string = sent.body.id;
    const mine = () => receiver.received.filter((r) => r.body.data.message_id === messageId);
    const of = (type: string, recipient: string) => mine().filter((r) => r.type === type && r.body.data.recipient === recipient);
    await eventually(
      async () =>
        of("delivered", "ana@hosted.test").length > 0 &&
        of("delivered", "ok@remote.test").length > 0 &&
        of("deferred", "grey@remote.test").length > 0 &&
        of("bounced", "gone@remote.test").length > 0,
      30_000,
      "delivered ×2, deferred, bounced",
    );
    expect(of("delivered", "ana@hosted.test")[0]!.body.data).toMatchObject({ route: "local", mailbox: "INBOX", uid: 1, tags: ["e2e-hooks"], metadata: { order: "7" } });
    expect(of("delivered", "ok@remote.test")[0]!.body.data).toMatchObject({ remote_reply: expect.stringMatching(/^250 /), remote_mta: expect.any(String) });
    expect(of("deferred", "grey@remote.test")[0]!.body.data).toMatchObject({
      reply: expect.stringContaining("4.7.1 greylisted"),
      attempt: 1,
      next_attempt_at: expect.any(String),
    });
    expect(of("bounced", "gone@remote.test")[0]!.body.data).toMatchObject({ bounce_class: "hard", status: "5.1.1", diagnostic: expect.stringContaining("550 5.1.1") });
    // Four 'accepted' too; each event once, though the receiver refused the first two POSTs.
    await eventually(async () => mine().filter((r) => r.type === "accepted").length === 4, 30_000, "accepted ×4 (the two refused POSTs come back after the first retry delay, 10 s)");
    const ids = mine().map((r) => r.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(mine().every((r) => r.body.data.header_message_id && r.eventId === r.body.id)).toBe(true);

    // The events API shows the same events, filtered.
    const bounced = await api("GET", `/v1/events?type=bounced&message_id=${messageId}`);
    expect(bounced.body.events).toEqual([of("bounced", "gone@remote.test")[0]!.body]);
    const byTag = await api("GET", `/v1/events?tag=e2e-hooks&recipient=ana@hosted.test&limit=1`);
    expect(byTag.body.events[0].type).toBe("delivered");
    expect((await api("GET", `/v1/events?tag=e2e-hooks&recipient=ana@hosted.test&limit=1&cursor=${byTag.body.next_cursor}`)).body.events[0].type).toBe("accepted");
    expect((await api("GET", "/v1/events?type=sent")).status).toBe(400);

    // The attempts list shows the two 500s the receiver gave first.
    const attempts = await api("GET", `/v1/webhooks/${created.body.webhook.id}/attempts?limit=100`);
    expect(attempts.body.attempts.filter((a: any) => a.status === 500)).toHaveLength(2);
    expect(attempts.body.attempts.filter((a: any) => a.ok).length).toBeGreaterThanOrEqual(8);

    // Replay one event on demand; the CLI sees the endpoint and its attempts.
    const bounce = of("bounced", "gone@remote.test")[0]!;
    expect((await api("POST", `/v1/webhooks/${created.body.webhook.id}/events/${bounce.eventId}/replay`)).status).toBe(202);
    await eventually(async () => of("bounced", "gone@remote.test").length === 2, 10_000, "replayed");
    const listed = await correo.cli(["webhook", "list", "--domain", "hosted.test"]);
    expect(listed.webhooks.map((w: any) => w.url)).toEqual([receiver.url]);
    const tested = await api("POST", `/v1/webhooks/${created.body.webhook.id}/test`);
    expect(tested.body).toMatchObject({ status: 200, ok: true, event: { type: "test" } });
  });
});
