import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDomain, addTransport } from "@correo/directory";
import { acceptMessage, type Accepted } from "@correo/spool";
import { findSuppression, listSuppressions } from "@correo/suppression";
import type { IsolatedInfra } from "@correo/testkit";
import { deliverRemote, type RelayDeps } from "../src/deliver.js";
import { nextHop } from "../src/route-policy.js";
import { DestinationSlots } from "../src/slots.js";
import { sendMessage } from "../src/smtp-client.js";
import { log, noDns, routeRemote, startRelaySuite, testPolicy, type RelaySuite } from "./relay-world.js";

// Issue 15 item 2: a hard bounce from a real SMTP peer (smtp-server answering at RCPT)
// lists the recipient on the sending domain's suppression list; 4xx and 5.7.1 do not.
let suite: RelaySuite;
let infra: IsolatedInfra;
let deps: RelayDeps;
const clock = { t: Date.parse("2026-12-01T09:00:00Z"), now: () => new Date(clock.t) };
const raw = Buffer.from("From: ana@hosted.test\r\nTo: x@remote.test\r\nSubject: s\r\nMessage-ID: <m@hosted.test>\r\n\r\nhi\r\n");

beforeAll(async () => {
  suite = await startRelaySuite("relay_suppress", (mx) => {
    mx.replies.set("gone@remote.test", 550); // "550 5.1.1 no such user here"
    mx.replies.set("busy@remote.test", 451); // "451 4.3.0 mailbox busy"
    mx.replies.set("policy@remote.test", 550);
    mx.texts.set("policy@remote.test", "5.7.1 message refused by policy");
  });
  infra = suite.infra;
  await addDomain(infra.pool, "hosted.test");
  await addTransport(infra.pool, "remote.test", "127.0.0.1", suite.mxPort);
  deps = {
    pool: infra.pool,
    clock,
    schedule: suite.schedule,
    slots: new DestinationSlots((...args) => suite.schedule.acquireSlot(...args), { maxWaiting: 8, maxWaitMs: 10_000, pollMs: 50 }),
    nextHop: (domain, transport) => nextHop({ dns: noDns, smtpPort: 25 }, domain, transport),
    send: sendMessage,
    policy: testPolicy,
    random: () => 0.5,
    log,
  };
});
afterAll(async () => suite?.close());

async function send(recipients: string[], sendingDomain?: string): Promise<Accepted> {
  const accepted = await acceptMessage(
    infra.pool,
    suite.outbox,
    { raw, envelopeFrom: "ana@hosted.test", recipients, source: "http", ...(sendingDomain ? { sendingDomain } : {}) },
    { clock, redriveAfterMs: 120_000 },
  );
  const routable = accepted.deliveries.filter((d) => !accepted.suppressed.includes(d.deliveryId));
  await routeRemote(infra.pool, clock, routable, "remote.test");
  if (routable.length > 0) {
    await deliverRemote(deps, {
      type: "delivery.remote", version: 1, messageId: accepted.messageId, blobId: accepted.blobId,
      envelopeFrom: "ana@hosted.test", domain: "remote.test", deliveries: routable,
    });
  }
  return accepted;
}

describe("hard bounces feed the suppression list", () => {
  it("lists a recipient refused with 550 5.1.1 at RCPT, and the next message to it is accepted as suppressed", async () => {
    const first = await send(["gone@remote.test", "ok@remote.test"], "hosted.test");
    const entry = await findSuppression(infra.pool, "hosted.test", "gone@remote.test");
    expect(entry).toMatchObject({ reason: "hard-bounce", messageId: first.messageId });
    expect(entry?.detail).toMatch(/^550 5\.1\.1 no such user here/);
    expect(await findSuppression(infra.pool, "hosted.test", "ok@remote.test")).toBeUndefined();

    const received = suite.mx.received.length;
    const second = await send(["Gone@remote.test", "ok@remote.test"], "hosted.test");
    expect(second.deliveries.map((d) => [d.recipient, second.suppressed.includes(d.deliveryId) ? "suppressed" : "queued"])).toEqual([
      ["Gone@remote.test", "suppressed"],
      ["ok@remote.test", "queued"],
    ]);
    const gone = second.deliveries[0]!.deliveryId;
    const { rows } = await infra.pool.query(
      "SELECT state, next_attempt_at, dsn_state, (SELECT array_agg(event ORDER BY id) FROM delivery_events WHERE delivery_id = d.id) AS events FROM deliveries d WHERE id = $1",
      [gone],
    );
    expect(rows[0]).toEqual({ state: "suppressed", next_attempt_at: null, dsn_state: "none", events: ["accepted", "suppressed"] });
    // Only ok@ went out the second time.
    expect(suite.mx.received.slice(received).flatMap((m) => m.to)).toEqual(["ok@remote.test"]);
  });

  it("does not list on a 451 4.3.0 deferral or a 550 5.7.1 policy refusal", async () => {
    await send(["busy@remote.test", "policy@remote.test"], "hosted.test");
    const { rows } = await infra.pool.query("SELECT recipient, state FROM deliveries WHERE recipient IN ('busy@remote.test', 'policy@remote.test') ORDER BY recipient");
    expect(rows).toEqual([
      { recipient: "busy@remote.test", state: "deferred" },
      { recipient: "policy@remote.test", state: "bounced" },
    ]);
    expect(await findSuppression(infra.pool, "hosted.test", "busy@remote.test")).toBeUndefined();
    expect(await findSuppression(infra.pool, "hosted.test", "policy@remote.test")).toBeUndefined();
  });

  it("lists nothing for a message without a sending domain (MX mail relayed by an alias, DSNs)", async () => {
    await send(["gone@remote.test"]);
    const page = await listSuppressions(infra.pool, "hosted.test", { limit: 10 });
    // Still the one entry of the first test.
    expect(page.entries.map((e) => e.address)).toEqual(["gone@remote.test"]);
  });
});
