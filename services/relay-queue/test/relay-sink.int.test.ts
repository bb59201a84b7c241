import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addTransport } from "@correo/directory";
import { loadDeliveries } from "@correo/spool";
import { eventually, freePort } from "@correo/testkit";
import { deliverRemote } from "../src/deliver.js";
import { publishDue } from "../src/schedule.js";
import { FakeMx } from "./fake-mx.js";
import { SmtpSink } from "./smtp-sink.js";
import { log, startCopy, startWorld, type RelayCopy, type World } from "./relay-world.js";

let world: World;
let relay: RelayCopy;
let sink: SmtpSink;
let mx: FakeMx;

beforeAll(async () => {
  world = await startWorld("relay-sink");
  relay = await startCopy(world.infra, world.clock);
  sink = new SmtpSink(await freePort());
  await addTransport(world.infra.pool, "sink.test", "127.0.0.1", sink.port);
  await addTransport(world.infra.pool, "tls.sink.test", "127.0.0.1", sink.port, { tlsPolicy: "encrypt" });
  mx = new FakeMx();
  const mxPort = await freePort();
  await mx.listen(mxPort);
  await addTransport(world.infra.pool, "tls.remote.test", "127.0.0.1", mxPort, { tlsPolicy: "encrypt" });
  await addTransport(world.infra.pool, "remote.test", "127.0.0.1", mxPort);
});

afterAll(async () => {
  await relay?.close();
  await sink?.close();
  await mx?.close();
  await world?.close();
});

const ids = (e: { deliveries: { deliveryId: string }[] }) => e.deliveries.map((d) => d.deliveryId);

describe("relaying to Postfix's smtp-sink", () => {
  it("delivers many messages, one transaction per message with all its recipients", async () => {
    await sink.start();
    const events = await Promise.all(
      Array.from({ length: 20 }, (_, i) => world.submit([`a${i}@sink.test`, `b${i}@sink.test`, `c${i}@sink.test`], { domain: "sink.test" })),
    );
    await Promise.all(events.map((e) => relay.broker.publish(e)));
    const all = events.flatMap(ids);
    // More at once than RELAY_DESTINATION_CONCURRENCY (10): the rest are put back for a
    // second or two and come again when the claim loop finds them due.
    for (let round = 0; round < 30; round++) {
      const ds = await loadDeliveries(world.infra.pool, all);
      if (ds.every((d) => d.state === "delivered")) break;
      if (relay.active() === 0 && ds.every((d) => d.state !== "routed")) {
        world.clock.t += 3000;
        await publishDue({ pool: world.infra.pool, broker: relay.broker, schedule: relay.deps.schedule, clock: world.clock, log });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await loadDeliveries(world.infra.pool, all)).map((d) => d.state)).toEqual(Array(60).fill("delivered"));
    const got = sink.messages();
    expect(got).toHaveLength(20);
    for (let i = 0; i < 20; i++) {
      expect(got.filter((m) => m.rcpt.includes(`a${i}@sink.test`)).map((m) => m.rcpt.sort())).toEqual([[`a${i}@sink.test`, `b${i}@sink.test`, `c${i}@sink.test`]]);
    }
    expect(got.every((m) => m.mailFrom === "ana@hosted.test")).toBe(true);
    const [d] = await loadDeliveries(world.infra.pool, ids(events[0]!));
    expect(d!.lastResponse).toMatch(/^250 2\.0\.0 Ok/);
  });

  it("defers on smtp-sink's 4xx, and delivers exactly once when the sink accepts again", async () => {
    await sink.stop();
    await sink.start(["-r", "rcpt"]);
    const before = sink.messages().length;
    const event = await world.submit(["later@sink.test"], { domain: "sink.test" });
    await deliverRemote(relay.deps, event);
    const [d] = await loadDeliveries(world.infra.pool, ids(event));
    expect(d!.state).toBe("deferred");
    expect(d!.lastResponse).toMatch(/^4\d\d /);
    await sink.stop();
    await sink.start();
    world.clock.t = d!.nextAttemptAt!.getTime();
    expect(await publishDue({ pool: world.infra.pool, broker: relay.broker, schedule: relay.deps.schedule, clock: world.clock, log })).toBe(1);
    await eventually(async () => (await loadDeliveries(world.infra.pool, ids(event)))[0]!.state === "delivered", 15_000, "delivered");
    expect(sink.messages().length - before).toBe(1);
  });

  it("bounces on smtp-sink's 5xx", async () => {
    await sink.stop();
    await sink.start(["-f", "rcpt"]);
    const event = await world.submit(["never@sink.test"], { domain: "sink.test" });
    await deliverRemote(relay.deps, event);
    const [d] = await loadDeliveries(world.infra.pool, ids(event));
    expect(d!.state).toBe("bounced");
    expect(d!.lastResponse).toMatch(/^5\d\d /);
    await sink.stop();
    await sink.start();
  });
});

describe("the hop's TLS policy and connection reuse", () => {
  it("does not send in clear when the route requires TLS and the host offers no STARTTLS", async () => {
    const event = await world.submit(["secret@tls.sink.test"], { domain: "tls.sink.test" });
    const before = sink.messages().length;
    await deliverRemote(relay.deps, event);
    const [d] = await loadDeliveries(world.infra.pool, ids(event));
    expect(d!.state).toBe("deferred");
    expect(d!.lastResponse).toMatch(/TLS/i);
    expect(sink.messages().length).toBe(before);
  });

  it("sends over STARTTLS when the route requires it and the host offers it", async () => {
    const event = await world.submit(["secret@tls.remote.test"], { domain: "tls.remote.test" });
    await deliverRemote(relay.deps, event);
    expect((await loadDeliveries(world.infra.pool, ids(event)))[0]!.state).toBe("delivered");
    expect(mx.for("secret@tls.remote.test")[0]!.secure).toBe(true);
  });

  it("reuses one connection for consecutive messages to the same host", async () => {
    const before = mx.connections;
    for (let i = 0; i < 8; i++) await deliverRemote(relay.deps, await world.submit([`reuse${i}@remote.test`]));
    for (let i = 0; i < 8; i++) expect(mx.for(`reuse${i}@remote.test`)).toHaveLength(1);
    expect(mx.connections - before).toBe(1);
  });
});
