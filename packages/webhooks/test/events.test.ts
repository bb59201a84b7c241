import { describe, expect, it } from "vitest";
import { bounceClassOf, enhancedStatusOf, eventOf, type TimelineRow } from "../src/events.js";
import { checkEndpointUrl } from "../src/endpoint-url.js";
import { endpointVerdict, MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS } from "../src/retry.js";

const row = (over: Partial<TimelineRow>): TimelineRow => ({
  id: "42",
  event: "accepted",
  at: new Date("2026-12-02T10:00:00Z"),
  detail: null,
  deliveryId: "d1",
  recipient: "bo@example.net",
  route: "remote",
  remoteMta: null,
  messageId: "0b4f4bf4-3c1a-4a57-9d6e-2f1b3f9c8e11",
  headerMessageId: "<m1@correo.test>",
  tags: ["welcome"],
  metadata: { user: 7 },
  deferrals: 0,
  nextAttemptAt: null,
  ...over,
});

describe("webhook events from timeline rows", () => {
  it("carries a stable id, the time, message ids, recipient, tags and metadata", () => {
    expect(eventOf(row({}))).toEqual({
      id: "evt_42",
      type: "accepted",
      created_at: "2026-12-02T10:00:00.000Z",
      data: {
        message_id: "0b4f4bf4-3c1a-4a57-9d6e-2f1b3f9c8e11",
        header_message_id: "<m1@correo.test>",
        recipient: "bo@example.net",
        tags: ["welcome"],
        metadata: { user: 7 },
        detail: null,
      },
    });
  });

  it("reports a remote delivery with the remote reply and MTA, a local one with mailbox and UID", () => {
    const remote = eventOf(row({ event: "delivered", detail: "250 2.0.0 Ok: queued as 4XyZ", remoteMta: "mx1.example.net" }))!;
    expect(remote.type).toBe("delivered");
    expect(remote.data).toMatchObject({ remote_reply: "250 2.0.0 Ok: queued as 4XyZ", remote_mta: "mx1.example.net" });
    const local = eventOf(row({ event: "delivered", route: "local", detail: "stored in INBOX as UID 7" }))!;
    expect(local.data).toMatchObject({ route: "local", mailbox: "INBOX", uid: 7 });
  });

  it("reports an inbound route's delivered row as the event 'inbound'", () => {
    expect(eventOf(row({ event: "delivered", route: "inbound", detail: "POST answered 200" }))!.type).toBe("inbound");
  });

  it("reports a deferral with its reply, attempt number and next attempt", () => {
    const e = eventOf(row({ event: "deferred", detail: "451 4.7.1 greylisted", deferrals: 2, nextAttemptAt: new Date("2026-12-02T10:05:00Z") }))!;
    expect(e.data).toMatchObject({ reply: "451 4.7.1 greylisted", attempt: 2, next_attempt_at: "2026-12-02T10:05:00.000Z" });
  });

  it("classes a bounce hard on a 5.x.x status and soft on 4.x.x (RFC 3463 §3.1)", () => {
    const hard = eventOf(row({ event: "bounced", detail: "550 5.1.1 <bo@example.net>: user unknown", remoteMta: "mx1.example.net" }))!;
    expect(hard.data).toMatchObject({ bounce_class: "hard", status: "5.1.1", diagnostic: "550 5.1.1 <bo@example.net>: user unknown", remote_mta: "mx1.example.net" });
    expect(bounceClassOf("452 4.2.2 mailbox full")).toBe("soft");
    expect(bounceClassOf("554 no such domain")).toBe("hard");
    expect(bounceClassOf("421 try later")).toBe("soft");
    expect(enhancedStatusOf("version 1.2.3")).toBeUndefined();
  });

  it("does not report internal steps ('routed')", () => {
    expect(eventOf(row({ event: "routed" }))).toBeUndefined();
  });
});

describe("retry schedule and endpoint verdicts", () => {
  it("retries for at least 24 hours, then gives up", () => {
    const total = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(24 * 3_600_000);
    const now = new Date("2026-12-02T00:00:00Z");
    expect(nextAttemptAt(1, now)!.getTime() - now.getTime()).toBe(10_000);
    expect(nextAttemptAt(MAX_ATTEMPTS - 1, now)).toBeDefined();
    expect(nextAttemptAt(MAX_ATTEMPTS, now)).toBeUndefined();
  });

  it("disables an endpoint when an event is exhausted or too many attempts in a row fail", () => {
    expect(endpointVerdict({ exhausted: false, failuresInARow24h: 3, maxFailures: 10 })).toEqual({ disable: false });
    expect(endpointVerdict({ exhausted: true, failuresInARow24h: 1, maxFailures: 10 })).toMatchObject({ disable: true });
    expect(endpointVerdict({ exhausted: false, failuresInARow24h: 10, maxFailures: 10 })).toMatchObject({ disable: true, reason: "10 attempts in a row failed within 24 h" });
  });
});

describe("endpoint URLs", () => {
  it("takes https, and http only when allowed", () => {
    expect(checkEndpointUrl("https://hooks.example.com/correo", false)).toEqual({ ok: true, url: "https://hooks.example.com/correo" });
    expect(checkEndpointUrl("http://127.0.0.1:9999/h", false)).toMatchObject({ ok: false, error: expect.stringContaining("https only") });
    expect(checkEndpointUrl("http://127.0.0.1:9999/h", true)).toMatchObject({ ok: true });
  });
  it("refuses other schemes, credentials, fragments and garbage precisely", () => {
    expect(checkEndpointUrl("ftp://x.example/", true)).toEqual({ ok: false, error: "scheme ftp: is not https" });
    expect(checkEndpointUrl("https://u:p@x.example/", true)).toMatchObject({ ok: false, error: expect.stringContaining("credentials") });
    expect(checkEndpointUrl("https://x.example/#a", true)).toMatchObject({ ok: false, error: expect.stringContaining("fragment") });
    expect(checkEndpointUrl("hooks", true)).toEqual({ ok: false, error: "not an absolute URL" });
  });
});
