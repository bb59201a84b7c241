import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "@correo/broker";
import { systemClock } from "@correo/spool";
import { createLogger } from "@correo/telemetry";
import { eventually, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { startRedrive, type RedriveLog } from "../src/redrive.js";

// A database of its own: this suite drops the deliveries table under the re-drive.
let infra: IsolatedInfra;
let broker: Broker;

beforeAll(async () => {
  infra = await isolatedInfra("routing-redrive");
  broker = new Broker({ url: infra.amqpUrl, prefix: infra.prefix, logger: createLogger("test", "silent") });
  await broker.connect();
});
afterAll(async () => {
  await broker?.close();
  await infra?.cleanup();
});

describe("startRedrive", () => {
  it("logs a warning with the error for each pass whose queries fail, and keeps passing", async () => {
    const warnings: { obj: object; msg: string }[] = [];
    const log: RedriveLog = { warn: (obj, msg) => void warnings.push({ obj, msg }), info: () => undefined };
    await infra.pool.query("DROP TABLE deliveries CASCADE");
    const stop = startRedrive({ pool: infra.pool, broker, clock: systemClock, log }, { intervalMs: 50, postponeMs: 60_000 });
    try {
      await eventually(async () => warnings.length >= 2 || undefined, 10_000, "two failed passes logged");
    } finally {
      stop();
    }
    expect(warnings[0]).toEqual({
      obj: { err: 'relation "deliveries" does not exist', intervalMs: 50 },
      msg: "re-drive pass failed; the next pass tries again",
    });
    // Stopped: a pass already under way may still end, but no new one starts.
    await new Promise((r) => setTimeout(r, 500));
    const logged = warnings.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings.length).toBe(logged);
  });
});
