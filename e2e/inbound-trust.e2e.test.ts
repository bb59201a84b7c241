import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrustResolver } from "../packages/trust/src/index.js";
import { startDnsmasq, type Dnsmasq } from "../packages/mx/test/dnsmasq.js";
import { FORWARDER_IP, SENDER_IP, SPOOFER_IP, forwardedWithArc, keys, message, signed, zone } from "../packages/trust/test/fixtures.js";
import { folderOf as folderIn, sendToMx, storedMessage } from "./mx-transaction.js";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Issue 14 items 1, 2 and 5 through the real MX listener of a whole Correo: a real DNS
 * server (dnsmasq) publishes SPF, DKIM (keys made in the test), DMARC of each policy and
 * PTR/A records; senders connect from the loopback addresses those records name.
 */
let correo: Correo;
let dnsmasq: Dnsmasq;
const AUTHSERV = "mx.trust.test";

beforeAll(async () => {
  dnsmasq = await startDnsmasq(zone);
  correo = await startCorreo("e2e-trust", {
    DNS_SERVERS: dnsmasq.server,
    AUTHSERV_ID: AUTHSERV,
    INBOUND_DNS_TIMEOUT: "1s",
    TRUSTED_ARC_SEALERS: "forwarder.test",
  });
  await correo.cli(["domain", "add", "hosted.test"]);
  await correo.cli(["account", "add", "bob@hosted.test", "--password", "long enough pass"]);
  await correo.cli(["domain", "add", "lenient.test"]);
  await correo.cli(["account", "add", "eve@lenient.test", "--password", "long enough pass"]);
}, 120_000);

afterAll(async () => {
  await correo?.stop();
  await dnsmasq?.stop();
});

const send = (raw: Buffer, o: { from: string; to?: string[]; ip?: string; helo?: string }) => sendToMx(correo, raw, { ip: SENDER_IP, ...o });
const stored = (id: string) => storedMessage(correo, id);
const folderOf = (id: string, account: string) => folderIn(correo, id, account);

const arHeaders = (raw: string) => raw.split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ").split("\r\n").filter((l) => /^authentication-results:/i.test(l));

describe("verification at the MX", () => {
  it("delivers a signed message from the domain's own host with one Authentication-Results of ours, all pass", async () => {
    const sent = await send(await signed(message("alice@reject.test", "Signed"), keys.reject), { from: "alice@reject.test" });
    expect(sent.ok).toBe(true);
    const m = await stored((sent as { id: string }).id);
    const ar = arHeaders(m.raw);
    expect(ar).toHaveLength(1);
    expect(ar[0]).toMatch(new RegExp(`^Authentication-Results: ${AUTHSERV.replace(/\./g, "\\.")}; iprev=pass`));
    expect(ar[0]).toMatch(/spf=pass .*smtp\.mailfrom=alice@reject\.test/);
    expect(ar[0]).toMatch(/dkim=pass header\.i=@reject\.test/);
    expect(ar[0]).toMatch(/dmarc=pass/);
    expect(m.raw).toMatch(/^Received: [^]*?\r\nAuthentication-Results: /);
    expect(m.quarantine).toBe(false);
    expect(m.detail).toMatch(/^accepted via smtp; spf=pass dkim=pass\(reject\.test\) dmarc=pass arc=none iprev=pass; accept: .*\(policy enforce\)$/);
    expect(await folderOf((sent as { id: string }).id, "bob@hosted.test")).toMatchObject({ name: "INBOX" });
  });

  it("refuses a spoofed sender of a p=reject domain with 550 5.7.1 at the end of DATA and stores nothing", async () => {
    const before = await correo.infra.pool.query("SELECT count(*)::int AS n FROM messages");
    const sent = await send(message("ceo@reject.test", "Wire money"), { from: "ceo@reject.test", ip: SPOOFER_IP, helo: "spoof.elsewhere.test" });
    expect(sent).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/^550 5\.7\.1 Message refused: DMARC policy of reject\.test is reject/) });
    const after = await correo.infra.pool.query("SELECT count(*)::int AS n FROM messages");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("files a p=quarantine failure in Junk, creating Junk (\\Junk) for an account that has none", async () => {
    await correo.infra.pool.query("DELETE FROM mailboxes WHERE name = 'Junk' AND account_id = (SELECT id FROM accounts WHERE address = 'bob@hosted.test')");
    const sent = await send(message("news@quarantine.test", "Offer"), { from: "news@quarantine.test", ip: SPOOFER_IP });
    expect(sent.ok).toBe(true);
    const id = (sent as { id: string }).id;
    const m = await stored(id);
    expect(m.quarantine).toBe(true);
    expect(m.detail).toMatch(/dmarc=fail .*; junk: DMARC policy of quarantine\.test is quarantine/);
    expect(await folderOf(id, "bob@hosted.test")).toEqual({ name: "Junk", special_use: "\\Junk" });
  });

  it("refuses SPF -all failures of a domain without DMARC the same way", async () => {
    const sent = await send(message("x@nodmarc.test"), { from: "x@nodmarc.test", ip: SPOOFER_IP });
    expect(sent).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/^550 5\.7\.1 .*SPF of nodmarc\.test/) });
  });

  it("removes Authentication-Results that claim our authserv-id and keeps other hosts' (RFC 8601 §5)", async () => {
    const raw = Buffer.from(
      `Authentication-Results: ${AUTHSERV}; dmarc=pass header.from=bank.test\r\n` +
        `Authentication-Results: ${AUTHSERV.toUpperCase()};\r\n spf=pass\r\n` +
        "Authentication-Results: mx.elsewhere.test; spf=pass\r\n" +
        (await signed(message("alice@relaxed.test"), keys.relaxed)).toString(),
    );
    const sent = await send(raw, { from: "alice@relaxed.test" });
    expect(sent.ok).toBe(true);
    const ar = arHeaders((await stored((sent as { id: string }).id)).raw);
    expect(ar).toHaveLength(2);
    expect(ar[0]).toMatch(new RegExp(`^Authentication-Results: ${AUTHSERV.replace(/\./g, "\\.")}; iprev=pass`));
    expect(ar[1]).toBe("Authentication-Results: mx.elsewhere.test; spf=pass");
  });

  it("defers with 451 4.7.0 when the sender's DNS does not answer, instead of a wrong verdict", async () => {
    const sent = await send(message("x@slow.example"), { from: "x@slow.example" });
    expect(sent).toMatchObject({ ok: false, code: 451, response: expect.stringMatching(/^451 4\.7\.0 Message deferred: .*temporary DNS failure/) });
  });

  it("accepts a message whose header cannot be parsed for authentication as unauthenticated (none)", async () => {
    const raw = Buffer.from("From\r\nSubject:\r\n: no name\r\n\r\nbody\r\n");
    const sent = await send(raw, { from: "" });
    expect(sent.ok).toBe(true);
    const m = await stored((sent as { id: string }).id);
    expect(arHeaders(m.raw)).toHaveLength(1);
    expect(m.quarantine).toBe(false);
  });

  it("trusts a mailing list's ARC seal when its sealer is in TRUSTED_ARC_SEALERS, and says so", async () => {
    const resolver = createTrustResolver({ servers: dnsmasq.server });
    const forwarded = await forwardedWithArc(await signed(message("alice@reject.test", "Minutes"), keys.reject), "alice@reject.test", resolver);
    const sent = await send(forwarded, { from: "alice@reject.test", ip: FORWARDER_IP, helo: "mx.forwarder.test" });
    expect(sent.ok).toBe(true);
    const m = await stored((sent as { id: string }).id);
    expect(arHeaders(m.raw)[0]).toMatch(/arc=pass .*dmarc=fail .*policy\.arc-override=forwarder\.test/);
    expect(m.detail).toMatch(/dmarc=fail\(arc-override\) arc=pass/);
  });
});

describe("the policy per domain", () => {
  it("is set and shown by the CLI and the admin API, and report-only delivers what enforce refuses", async () => {
    expect((await correo.cli(["domain", "policy", "lenient.test", "report-only"])).domain).toMatchObject({ name: "lenient.test", inbound_policy: "report-only" });
    const list = (await correo.cli(["domain", "list"])).domains;
    expect(list.find((d: { name: string }) => d.name === "hosted.test").inbound_policy).toBeNull();
    const sent = await send(message("ceo@reject.test", "Spoof"), { from: "ceo@reject.test", to: ["eve@lenient.test"], ip: SPOOFER_IP });
    expect(sent.ok).toBe(true);
    expect((await stored((sent as { id: string }).id)).detail).toMatch(/; accept: .*\(policy report-only\)$/);
    // Recipients of two domains: the strictest policy (enforce) decides the one DATA reply.
    const both = await send(message("ceo@reject.test", "Spoof"), { from: "ceo@reject.test", to: ["eve@lenient.test", "bob@hosted.test"], ip: SPOOFER_IP });
    expect(both).toMatchObject({ ok: false, code: 550 });
    expect((await correo.cli(["domain", "policy", "lenient.test", "default"])).domain.inbound_policy).toBeNull();
  });

  it("answers a bad policy value with problem+json naming the field", async () => {
    const key = (await correo.cli(["adminkey", "create", "--description", "trust"])).admin_key.token;
    const res = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/admin/domains/hosted.test/inbound-policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ policy: "strict" }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(await res.json())).toMatch(/policy/);
    const ok = await fetch(`http://127.0.0.1:${correo.ports.http}/v1/admin/domains/hosted.test/inbound-policy`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ policy: "quarantine-only" }),
    });
    expect(((await ok.json()) as { domain: { inbound_policy: string } }).domain.inbound_policy).toBe("quarantine-only");
    const junked = await send(message("ceo@reject.test", "Spoof"), { from: "ceo@reject.test", ip: SPOOFER_IP });
    expect(junked.ok).toBe(true);
    expect((await stored((junked as { id: string }).id)).quarantine).toBe(true);
  });

  it("counts every verdict and method result in the submission service's metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${correo.ports.ops.submission}/metrics`)).text();
    expect(text).toMatch(/correo_inbound_auth_verdicts_total\{[^}]*verdict="reject"[^}]*\} [1-9]/);
    expect(text).toMatch(/correo_inbound_auth_verdicts_total\{[^}]*verdict="junk"[^}]*\} [1-9]/);
    expect(text).toMatch(/correo_inbound_auth_verdicts_total\{[^}]*verdict="defer"[^}]*\} [1-9]/);
    expect(text).toMatch(/correo_inbound_auth_results_total\{[^}]*method="dmarc"[^}]*result="fail"[^}]*\} [1-9]/);
  });
});
