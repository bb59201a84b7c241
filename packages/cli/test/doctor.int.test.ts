import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, isolatedInfra, type IsolatedInfra } from "@correo/testkit";
import { startDnsmasq, type Dnsmasq } from "../../mx/test/dnsmasq.js";
import { runCli } from "./run-cli.js";

/**
 * `correo doctor` against a real DNS server (dnsmasq, its own zone, --no-resolv) and
 * real listeners: good.test publishes everything right, DKIM record from its own key
 * (made with `correo dkim generate`); bad.test publishes nothing.
 */
const HOST = "mail.good.test";
const PORT_VARS = ["SMTP_MX_PORT", "SMTP_SUBMISSION_PORT", "SMTPS_PORT", "IMAP_PORT", "IMAPS_PORT", "POP3_PORT", "POP3S_PORT"];
let infra: IsolatedInfra;
let dnsmasq: Dnsmasq;
let env: Record<string, string>;
const listeners: Server[] = [];
let dkimValue: string;

const doctor = (args: string[], extra: Record<string, string> = {}) => runCli(["doctor", ...args, "--resolver", dnsmasq.server], { ...env, ...extra });

beforeAll(async () => {
  infra = await isolatedInfra("cli-doctor");
  env = { ...infra.env, CORREO_HOSTNAME: HOST };
  for (const v of PORT_VARS) {
    const server = createServer((s) => s.end());
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
    listeners.push(server);
    env[v] = String(port);
  }
  for (const d of ["good.test", "bad.test"]) expect((await runCli(["domain", "add", d], env)).code).toBe(0);
  const dkim = await runCli(["dkim", "generate", "good.test", "--json"], env);
  dkimValue = dkim.json().record.value;
  dnsmasq = await startDnsmasq({
    mx: { "good.test": [[HOST, 10]] },
    a: { [HOST]: ["127.0.0.1"] },
    txt: {
      "good.test": ["v=spf1 mx -all"],
      [dkim.json().record.name]: [dkimValue],
      "_dmarc.good.test": ["v=DMARC1; p=quarantine; rua=mailto:postmaster@good.test"],
    },
    ptr: { "127.0.0.1": HOST },
  });
});

afterAll(async () => {
  await dnsmasq?.stop();
  for (const l of listeners) l.close();
  await infra?.cleanup();
});

describe("correo doctor", () => {
  it("finds nothing to change for a domain that publishes what it needs: exit 0", async () => {
    const r = await doctor(["good.test", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = r.json();
    expect(report).toMatchObject({ ok: true, hostname: HOST, addresses: ["127.0.0.1"] });
    expect(report.host.map((c: any) => [c.check, c.status])).toEqual([
      ["address", "ok"],
      ["ptr", "ok"],
      ...PORT_VARS.map(() => ["port", "ok"]),
    ]);
    const [good] = report.domains;
    expect(good.checks.map((c: any) => [c.check, c.name, c.status])).toEqual([
      ["mx", "good.test", "ok"],
      ["spf", "good.test", "ok"],
      ["dkim", "correo._domainkey.good.test", "ok"],
      ["dmarc", "_dmarc.good.test", "ok"],
    ]);
    // The DKIM record expected is the one of the domain's real key.
    expect(good.checks[2].expected).toBe((await runCli(["dkim", "show", "good.test", "--json"], env)).json().record.value);
  });

  it("says what to publish for a domain that publishes nothing: exit 1", async () => {
    const r = await doctor(["bad.test", "--json"]);
    expect(r.code).toBe(1);
    const checks = r.json().domains[0].checks;
    expect(checks.map((c: any) => [c.check, c.status, c.published])).toEqual([
      ["mx", "change", []],
      ["spf", "change", []],
      ["dkim", "change", []],
      ["dmarc", "change", []],
    ]);
    expect(checks.map((c: any) => c.fix)).toEqual([
      `publish bad.test. IN MX 10 ${HOST}.`,
      'publish bad.test. IN TXT "v=spf1 mx -all"',
      expect.stringMatching(/no DKIM key.*correo dkim generate bad\.test/),
      'publish _dmarc.bad.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@bad.test"',
    ]);
    const human = await doctor(["bad.test"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`→ publish bad.test. IN MX 10 ${HOST}.`);
    expect(human.stdout).toMatch(/CHANGE {2}spf {5}bad\.test {2}TXT {2}\(nothing published\)/);
  });

  it("checks every hosted domain without an argument, and refuses one not hosted", async () => {
    const r = await doctor(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().domains.map((d: any) => d.domain)).toEqual(["bad.test", "good.test"]);
    expect(await doctor(["nope.test"])).toMatchObject({ code: 1, stderr: "correo: nope.test is not hosted here\n" });
  });

  it("names a public listener that does not answer, with the variable of its port", async () => {
    const closed = String(await freePort());
    const r = await doctor(["good.test", "--json"], { IMAPS_PORT: closed });
    expect(r.code).toBe(1);
    const bad = r.json().host.filter((c: any) => c.status !== "ok");
    expect(bad).toEqual([
      expect.objectContaining({ check: "port", name: `127.0.0.1:${closed}`, expected: "IMAPS, IMAPS_PORT answers", published: ["ECONNREFUSED"] }),
    ]);
  });

  it("exits 69 when the DNS server does not answer", async () => {
    const r = await runCli(["doctor", "--resolver", `127.0.0.1:${await freePort()}`], env);
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/^correo: DNS is unreachable \(127\.0\.0\.1:\d+: ECONNREFUSED\)/);
  });

  it("sees a published DKIM record go stale when the key is replaced", async () => {
    expect((await runCli(["dkim", "generate", "good.test"], env)).code).toBe(0);
    const r = await doctor(["good.test", "--json"]);
    expect(r.code).toBe(1);
    const dkim = r.json().domains[0].checks.find((c: any) => c.check === "dkim");
    expect(dkim).toMatchObject({ status: "change", published: [dkimValue], fix: expect.stringMatching(/not the domain's key/) });
    expect(dkim.expected).not.toBe(dkimValue);
  });
});
