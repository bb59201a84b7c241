import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer } from "smtp-server";
import { Broker } from "@correo/broker";
import { addTransport } from "@correo/directory";
import { acceptMessage, Outbox, systemClock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { eventually, freePort, isolatedInfra, spawnService, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";

/**
 * The relay's at-least-once window (docs/reliability.md, "Relay window"): the remote MX
 * has the whole message, relay-queue dies before it has recorded the remote's 250. A
 * real remote (smtp-server, real sockets) tells the test when the final dot is in; the
 * test SIGKILLs the relay-queue process just before, or just after, the 250 is written,
 * and starts it again. Whatever the moment, the message reaches the remote at least
 * once and at most twice, and its delivery ends in exactly one final state.
 */
const log = createLogger("e2e-relay-window", "silent");
let infra: IsolatedInfra;
let broker: Broker;
let outbox: Outbox;
let remote: SMTPServer;
let remotePort = 0;
let routing: RunningProcess;
let relay: RunningProcess | undefined;
const relayOps = { port: 0 };
const env: Record<string, string> = {};

/** Subjects of every message the remote took in (a copy per final dot it answered or not). */
const received: string[] = [];
/** Called at the final dot of the next message only; resolves when the remote may answer. */
let onFinalDot: ((subject: string, answer: () => void) => void) | undefined;

async function startRelay(): Promise<void> {
  relay = spawnService("relay-queue", { ...env, OPS_PORT: String(relayOps.port) });
  await waitForHttp(`http://127.0.0.1:${relayOps.port}/readyz`, 30_000, relay);
}

beforeAll(async () => {
  infra = await isolatedInfra("e2e-relay-window");
  remotePort = await freePort();
  remote = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const subject = /^Subject: (.*)$/m.exec(Buffer.concat(chunks).toString("utf8"))?.[1]?.trim() ?? "";
        // The remote has the whole message now, as an MTA that queues at the final dot.
        received.push(subject);
        const hook = onFinalDot;
        onFinalDot = undefined;
        if (hook) hook(subject, () => callback(null, "2.0.0 queued"));
        else callback(null, "2.0.0 queued");
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(remotePort, "127.0.0.1", resolve));
  await addTransport(infra.pool, "window.test", "127.0.0.1", remotePort);

  Object.assign(env, infra.env, {
    LOG_LEVEL: "warn",
    // A killed copy's deliveries come back after the lease: seconds here, not 20 minutes.
    RELAY_ATTEMPT_LEASE: "2s",
    RELAY_CONNECT_TIMEOUT: "2s",
    RELAY_MIN_BACKOFF: "500ms",
    RELAY_MAX_BACKOFF: "1s",
    // Routing's re-drive republishes what is still `routed` once its next action time is past.
    REDRIVE_AFTER: "1s",
    REDRIVE_INTERVAL: "500ms",
  });
  const routingOps = await freePort();
  relayOps.port = await freePort();
  routing = spawnService("routing", { ...env, OPS_PORT: String(routingOps) });
  await waitForHttp(`http://127.0.0.1:${routingOps}/readyz`, 30_000, routing);
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: log });
  await broker.connect();
  outbox = new Outbox(infra.pool, broker, log);
});

afterAll(async () => {
  await relay?.stop();
  await routing?.stop();
  await broker?.close();
  await new Promise<void>((resolve) => (remote ? remote.close(() => resolve()) : resolve()));
  await infra?.cleanup();
});

async function send(subject: string): Promise<string> {
  const raw = Buffer.from(`From: <sender@correo.test>\r\nTo: <u@window.test>\r\nSubject: ${subject}\r\n\r\nstore and forward\r\n`);
  const accepted = await acceptMessage(
    infra.pool,
    outbox,
    { raw, envelopeFrom: "sender@correo.test", recipients: ["u@window.test"], source: "smtp" },
    { clock: systemClock, redriveAfterMs: 1000 },
  );
  return accepted.deliveries[0]!.deliveryId;
}

async function finalStates(deliveryId: string): Promise<{ state: string; finals: number }> {
  const { rows } = await infra.pool.query<{ state: string; finals: number }>(
    `SELECT d.state, (SELECT count(*)::int FROM delivery_events e
                       WHERE e.delivery_id = d.id AND e.event IN ('delivered', 'bounced', 'expired')) AS finals
       FROM deliveries d WHERE d.id = $1`,
    [deliveryId],
  );
  return rows[0]!;
}

/** Kills relay-queue at the final dot (`when` the 250 is written), restarts it, checks the outcome. */
async function killAround(when: "before the 250" | "after the 250"): Promise<number> {
  await startRelay();
  const subject = `window ${when} ${Date.now()}`;
  const killed = new Promise<void>((resolve, reject) => {
    onFinalDot = (got, answer) => {
      if (got !== subject) return reject(new Error(`unexpected message ${got}`));
      const kill = () => relay!.child.kill("SIGKILL");
      if (when === "before the 250") {
        kill();
        void relay!.exited.then(() => (answer(), resolve()));
      } else {
        answer();
        // The reply is written on this tick; the kill follows on the next.
        setImmediate(() => (kill(), void relay!.exited.then(() => resolve())));
      }
    };
  });
  const deliveryId = await send(subject);
  await killed;
  await startRelay();
  await eventually(async () => (await finalStates(deliveryId)).state !== "routed" && (await finalStates(deliveryId)).state !== "deferred", 30_000, "delivery final after restart");
  // Past the lease and a re-drive or two: nothing is sent again.
  await new Promise((r) => setTimeout(r, 3000));
  const copies = received.filter((s) => s === subject).length;
  expect(await finalStates(deliveryId)).toEqual({ state: "delivered", finals: 1 });
  expect(copies).toBeGreaterThanOrEqual(1); // nothing lost
  expect(copies).toBeLessThanOrEqual(2); // at most one more copy per kill
  await relay!.stop();
  return copies;
}

describe("relay-queue killed around the remote's final reply", () => {
  it("killed after the final dot, before the 250: delivered once more after the restart, one final state", async () => {
    // The remote took the message but relay-queue never saw the 250: it must send again.
    expect(await killAround("before the 250")).toBe(2);
  });

  it("killed just after the 250 is written: delivered at least once and at most twice, one final state", async () => {
    const copies = await killAround("after the 250");
    process.stderr.write(`relay window, killed just after the 250: ${copies} cop${copies === 1 ? "y" : "ies"} at the remote\n`);
  });
});
