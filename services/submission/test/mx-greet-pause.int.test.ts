import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedInfra, waitForHttp, type IsolatedInfra, type RunningProcess } from "@correo/testkit";
import { SmtpWire } from "./smtp-wire.js";
import { spawnSubmission, submissionPorts } from "./submission-process.js";

/**
 * SMTP_MX_GREET_PAUSE: smtp-server's early-talker pause before the greeting, made an
 * option (patches/smtp-server@3.21.6.patch). Off by default on the MX, as in Postfix
 * without postscreen; when set, a client that speaks before the 220 is refused.
 */
let infra: IsolatedInfra;
let service: RunningProcess;
const ports = submissionPorts();

beforeAll(async () => {
  infra = await isolatedInfra("submission-greet-pause");
  service = await spawnSubmission(infra, ports, {
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
