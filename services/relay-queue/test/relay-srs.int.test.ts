import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate } from "mailauth";
import { addTransport } from "@correo/directory";
import { dkimTxtRecord, generateDkimKey, saveDkimKey, txtResolver, type TxtResolver } from "@correo/dkim";
import { parseDnsServers } from "@correo/mx";
import { srsForward, srsReverse } from "@correo/srs";
import { getBlob, loadDeliveries } from "@correo/spool";
import { eventually, freePort } from "@correo/testkit";
import type { DeliveryRemote } from "@correo/contracts";
import { deliverRemote } from "../src/deliver.js";
import { sweepDsns } from "../src/dsn-sweeper.js";
import { publishDue } from "../src/schedule.js";
import { startDnsmasq, type Dnsmasq } from "../../../packages/mx/test/dnsmasq.js";
import { FakeMx } from "./fake-mx.js";
import { log, MINUTE, startCopy, startWorld, type RelayCopy, type World } from "./relay-world.js";

/**
 * Issue 14 items 3 and 4 at the relay: a delivery an alias forwards goes out with its own
 * SRS MAIL FROM and an ARC set that mailauth verifies with the SRS domain's published
 * key (a dnsmasq zone, asked by the resolver relay-queue's main uses); its DSN still goes
 * to the original sender.
 */
let world: World;
let copy: RelayCopy;
let mx: FakeMx;
const key = generateDkimKey();
const txt = dkimTxtRecord("hosted.test", "correo1", key.publicKey);
let dnsmasq: Dnsmasq;
/** DNS as the relay and the final hop ask it: our DKIM/ARC key published in the dnsmasq zone. */
let resolver: TxtResolver;
const srs = { secrets: ["relay-test-secret"], domain: "hosted.test" };

/** What the MX wrote on the way in (wt-trust's header; written here until that lands). */
const inbound = (subject: string) =>
  Buffer.from(
    "Authentication-Results: mx.hosted.test;\r\n spf=pass smtp.mailfrom=eva@origin.test;\r\n dkim=none\r\n" +
      `From: Eva <eva@origin.test>\r\nTo: fwd@hosted.test\r\nSubject: ${subject}\r\nDate: Wed, 02 Dec 2026 09:00:00 +0000\r\n` +
      `Message-ID: <${subject.replace(/\W/g, "")}@origin.test>\r\n\r\nReenviado.\r\n`,
  );

/** A message from outside to an alias, forwarded to `to`: the delivery row gets its SRS sender as routing writes it. */
async function forwarded(to: string, srsDomain = srs.domain): Promise<DeliveryRemote> {
  const event = await world.submit([to], { from: "eva@origin.test", envelopeFrom: "eva@origin.test", raw: inbound(to) });
  const rewritten = srsForward("eva@origin.test", { ...srs, domain: srsDomain }, world.clock.now());
  if (!rewritten.ok) throw new Error(rewritten.detail);
  await world.infra.pool.query("UPDATE deliveries SET envelope_from = $1 WHERE id = $2", [rewritten.address, event.deliveries[0]!.deliveryId]);
  return { ...event, envelopeFrom: rewritten.address };
}

async function arcVerdict(raw: string) {
  const result = await authenticate(Buffer.from(raw), {
    resolver, ip: "127.0.0.9", helo: "relay.correo.test", sender: "x@hosted.test", mta: "mx.final.test",
  } as Parameters<typeof authenticate>[1]);
  return result.arc as { status: { result: string }; i: number; authenticationResults?: Record<string, unknown> };
}

beforeAll(async () => {
  dnsmasq = await startDnsmasq({ txt: { [txt.name]: [txt.value] } });
  resolver = txtResolver(parseDnsServers(dnsmasq.server), 2000);
  world = await startWorld("relay-srs");
  copy = await startCopy(world.infra, world.clock);
  copy.deps.arc = { authservId: "mx.hosted.test", resolver };
  mx = new FakeMx();
  const port = await freePort();
  await mx.listen(port);
  await world.infra.pool.query("INSERT INTO domains (name) VALUES ('hosted.test'), ('keyless.test')");
  await saveDkimKey(world.infra.pool, "hosted.test", "correo1", key);
  await addTransport(world.infra.pool, "remote.test", "127.0.0.1", port);
});
afterAll(async () => {
  await copy?.close();
  await mx?.close();
  await world?.close();
  await dnsmasq?.stop();
});

describe("relaying forwarded mail", () => {
  it("sends MAIL FROM the SRS address with an ARC set that verifies with the published key, cv=none, repeating our results", async () => {
    const event = await forwarded("ana@remote.test");
    await deliverRemote(copy.deps, event);
    const [got] = mx.for("ana@remote.test");
    expect(got!.from).toBe(event.envelopeFrom);
    expect(srsReverse(got!.from, srs, world.clock.now())).toEqual({ ok: true, address: "eva@origin.test" });
    const unfolded = got!.raw.replace(/\r\n[ \t]+/g, " ");
    expect(unfolded).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none; d=hosted\.test; s=correo1;/);
    expect(unfolded).toContain("\r\nARC-Authentication-Results: i=1; mx.hosted.test; spf=pass smtp.mailfrom=eva@origin.test; dkim=none\r\n");
    const verdict = await arcVerdict(got!.raw);
    expect(verdict.status.result).toBe("pass");
    expect(verdict.i).toBe(1);
    expect((await loadDeliveries(world.infra.pool, [event.deliveries[0]!.deliveryId]))[0]!.state).toBe("delivered");
  });

  it("claims nothing for an event whose MAIL FROM is not the delivery's (the original sender instead of its SRS one)", async () => {
    const event = await forwarded("bea@remote.test");
    await deliverRemote(copy.deps, { ...event, envelopeFrom: "eva@origin.test" });
    expect(mx.for("bea@remote.test")).toHaveLength(0);
    expect((await loadDeliveries(world.infra.pool, [event.deliveries[0]!.deliveryId]))[0]!.state).toBe("routed");
  });

  it("re-publishes a deferred forwarded delivery with its SRS sender, and delivers it so", async () => {
    mx.replies.set("cris@remote.test", 451);
    const event = await forwarded("cris@remote.test");
    await deliverRemote(copy.deps, event);
    expect((await loadDeliveries(world.infra.pool, [event.deliveries[0]!.deliveryId]))[0]!.state).toBe("deferred");
    mx.replies.delete("cris@remote.test");
    world.clock.t += 5 * MINUTE;
    await publishDue({ pool: world.infra.pool, broker: copy.broker, schedule: copy.deps.schedule, clock: world.clock, log });
    const [got] = await eventually(async () => (mx.for("cris@remote.test").length > 0 ? mx.for("cris@remote.test") : undefined), 10_000);
    expect(got!.from).toBe(event.envelopeFrom);
    // The first attempt was called directly; the re-published event is the one the copy consumed.
    expect(copy.consumed.filter((e) => e.messageId === event.messageId).map((e) => e.envelopeFrom)).toEqual([event.envelopeFrom]);
  });

  it("sends the DSN of a forwarded delivery that bounced to the original sender, not to the SRS address", async () => {
    mx.replies.set("gone@remote.test", 550);
    const event = await forwarded("gone@remote.test");
    await deliverRemote(copy.deps, event);
    expect(await sweepDsns(world.dsnDeps())).toBeGreaterThanOrEqual(1);
    const { rows } = await world.infra.pool.query<{ recipient: string; blob_id: string }>(
      `SELECT d.recipient, m.blob_id FROM messages m JOIN deliveries d ON d.message_id = m.id WHERE m.source = 'dsn' AND m.envelope_from = ''`,
    );
    const dsn = rows.find((r) => r.recipient === "eva@origin.test");
    expect(dsn).toBeDefined();
    expect((await getBlob(world.infra.pool, dsn!.blob_id))!.toString()).toContain("gone@remote.test");
    expect(rows.some((r) => r.recipient.startsWith("SRS0="))).toBe(false);
  });

  it("forwards unsealed, with a warning, when the SRS domain has no DKIM key", async () => {
    const event = await forwarded("dora@remote.test", "keyless.test");
    await deliverRemote(copy.deps, event);
    const [got] = mx.for("dora@remote.test");
    expect(got!.from).toMatch(/^SRS0=.*@keyless\.test$/);
    expect(got!.raw).not.toMatch(/^ARC-/m);
  });

  it("does not seal mail that is not forwarded", async () => {
    const event = await world.submit(["eli@remote.test"], { from: "ana@hosted.test" });
    await deliverRemote(copy.deps, event);
    expect(mx.for("eli@remote.test")[0]!.raw).not.toMatch(/^ARC-/m);
  });
});
