import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, isolatedInfra, spawnService, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";

/**
 * SMTP_MX_GREET_PAUSE: smtp-server's early-talker pause before the greeting, made an
 * option (patches/smtp-server@3.21.6.patch). Off by default on the MX, as in Postfix
 * without postscreen; when set, a client that speaks before the 220 is refused.
 */
let infra: IsolatedInfra;
let service: RunningProcess;
const ports = { mx: 0, submission: 0, smtps: 0, http: 0, ops: 0 };

beforeAll(async () => {
  infra = await isolatedInfra("submission-greet-pause");
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  service = spawnService("submission", {
    ...infra.env,
    SUBMISSION_HTTP_PORT: String(ports.http),
    SMTP_MX_PORT: String(ports.mx),
    SMTP_SUBMISSION_PORT: String(ports.submission),
    SMTPS_PORT: String(ports.smtps),
    OPS_PORT: String(ports.ops),
    // Far longer than any test runs: the greeting cannot come before the client talks.
    SMTP_MX_GREET_PAUSE: "10m",
  });
  await waitForHttp(`http://127.0.0.1:${ports.ops}/readyz`, 30_000, service);
});

afterAll(async () => {
  await service?.stop();
  await infra?.cleanup();
});

describe("MX greeting pause (SMTP_MX_GREET_PAUSE)", () => {
  it("holds the greeting for SMTP_MX_GREET_PAUSE and refuses a client that talks first with 421", async () => {
    const wire = await SmtpWire.open(ports.mx);
    // Longer than smtp-server's fixed 100 ms: without the option the 220 would be here by now.
    await new Promise((r) => setTimeout(r, 1000));
    expect(wire.pending()).toBe("");
    wire.write("EHLO early.remote.test\r\n");
    expect(await wire.reply()).toMatch(/^421 .*talk too soon/);
    wire.close();
  });
});
