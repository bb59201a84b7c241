import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTrustResolver, decideTrust, verifyInbound, type TrustResolver } from "../src/index.js";
import { startDnsmasq, type Dnsmasq } from "../../mx/test/dnsmasq.js";
import { FORWARDER_IP, SENDER_IP, SPOOFER_IP, forwardedWithArc, keys, message, signed, zone } from "./fixtures.js";

// verifyInbound against a real DNS server (dnsmasq) publishing SPF, DKIM, DMARC and PTR records.
let dnsmasq: Dnsmasq;
let resolver: TrustResolver & { cacheSize(): number };

beforeAll(async () => {
  dnsmasq = await startDnsmasq(zone);
  resolver = createTrustResolver({ servers: dnsmasq.server, timeoutMs: 800 });
});
afterAll(async () => dnsmasq?.stop());

const verify = (raw: Buffer, o: { ip?: string; mailFrom: string; helo?: string; trusted?: string[] }) =>
  verifyInbound(raw, {
    ip: o.ip ?? SENDER_IP,
    helo: o.helo ?? "mail.sender.test",
    mailFrom: o.mailFrom,
    authservId: "mx.correo.test",
    resolver,
    trustedArcSealers: o.trusted,
  });

describe("verifyInbound with a real resolver", () => {
  it("passes SPF, DKIM, DMARC and iprev for a signed message from the domain's own host", async () => {
    const { auth, header } = await verify(await signed(message("alice@reject.test"), keys.reject), { mailFrom: "alice@reject.test" });
    expect(auth.spf).toEqual({ result: "pass", domain: "reject.test" });
    expect(auth.spfHelo).toEqual({ result: "pass", domain: "mail.sender.test" });
    expect(auth.dkim).toEqual([{ result: "pass", domain: "reject.test", selector: "s1", aligned: true }]);
    expect(auth.dmarc).toMatchObject({ result: "pass", domain: "reject.test", policy: "reject" });
    expect(auth.iprev).toMatchObject({ result: "pass", name: "mail.sender.test" });
    expect(header).toMatch(/^Authentication-Results: mx\.correo\.test;\r\n iprev=pass /);
    expect(header).toMatch(/spf=pass .*smtp\.mailfrom=alice@reject\.test/);
    expect(header).toMatch(/dkim=pass header\.i=@reject\.test header\.s=s1/);
    expect(header).toMatch(/dmarc=pass .*header\.from=reject\.test/);
    expect(header.endsWith("\r\n")).toBe(true);
    expect(header.split("\r\n").filter((l) => l.startsWith("Authentication-Results:"))).toHaveLength(1);
    expect(decideTrust(auth, "enforce").action).toBe("accept");
  });

  it("fails a spoofed p=reject sender from another host: SPF fail, no DKIM, DMARC fail, iprev fail", async () => {
    const { auth } = await verify(message("ceo@reject.test"), { ip: SPOOFER_IP, mailFrom: "ceo@reject.test", helo: "spoof.elsewhere.test" });
    expect(auth.spf.result).toBe("fail");
    expect(auth.dmarc).toMatchObject({ result: "fail", policy: "reject" });
    expect(auth.iprev.result).toBe("fail");
    expect(decideTrust(auth, "enforce")).toMatchObject({ action: "reject", basis: "dmarc-reject" });
  });

  it("fails DKIM when the signed body was changed on the way", async () => {
    const raw = (await signed(message("alice@quarantine.test"), keys.quarantine)).toString().replace("A message.", "A changed message.");
    const { auth } = await verify(Buffer.from(raw), { ip: SPOOFER_IP, mailFrom: "alice@quarantine.test" });
    // mailauth says neutral for a body hash mismatch (RFC 6376 §3.9 leaves it to the verifier); never pass.
    expect(auth.dkim[0]).toMatchObject({ result: expect.stringMatching(/^(fail|neutral)$/), domain: "quarantine.test" });
    expect(auth.dmarc).toMatchObject({ result: "fail", policy: "quarantine" });
    expect(decideTrust(auth, "enforce").action).toBe("junk");
  });

  it("takes SPF -all alone when the domain has no DMARC record", async () => {
    const { auth } = await verify(message("x@nodmarc.test"), { ip: SPOOFER_IP, mailFrom: "x@nodmarc.test" });
    expect(auth.spf.result).toBe("fail");
    expect(auth.dmarc.result).toBe("none");
    expect(decideTrust(auth, "enforce")).toMatchObject({ action: "reject", basis: "spf-fail" });
    expect(decideTrust(auth, "quarantine-only").action).toBe("junk");
  });

  it("gives temperror, not a verdict, when the DNS server does not answer", async () => {
    const started = Date.now();
    const { auth, header } = await verify(message("x@slow.example"), { mailFrom: "x@slow.example" });
    expect(auth.spf.result).toBe("temperror");
    expect(auth.dmarc.result).toBe("temperror");
    expect(header).toMatch(/dmarc=temperror/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(decideTrust(auth, "enforce")).toMatchObject({ action: "defer", basis: "temperror" });
  });

  it("trusts a broken DMARC through the ARC chain of a trusted sealer only (RFC 8617 §7.2)", async () => {
    const original = await signed(message("alice@reject.test", "Minutes"), keys.reject);
    const forwarded = await forwardedWithArc(original, "alice@reject.test", resolver);
    const untrusted = await verify(forwarded, { ip: FORWARDER_IP, mailFrom: "alice@reject.test", helo: "mx.forwarder.test" });
    expect(untrusted.auth.dmarc.result).toBe("fail");
    expect(untrusted.auth.arc).toMatchObject({ result: "pass", instance: 1, sealer: "forwarder.test", dmarc: "pass" });
    expect(untrusted.auth.arcOverride).toBeUndefined();
    expect(decideTrust(untrusted.auth, "enforce").action).toBe("reject");

    const trusted = await verify(forwarded, { ip: FORWARDER_IP, mailFrom: "alice@reject.test", helo: "mx.forwarder.test", trusted: ["forwarder.test"] });
    expect(trusted.auth.arcOverride).toEqual({ sealer: "forwarder.test" });
    expect(trusted.header).toMatch(/arc=pass/);
    expect(trusted.header).toMatch(/dmarc=fail .*policy\.arc-override=forwarder\.test/s);
    expect(decideTrust(trusted.auth, "enforce")).toMatchObject({ action: "accept", basis: "arc-override" });
  });

  it("treats a message whose header cannot be parsed as unauthenticated, without throwing", async () => {
    const garbage = Buffer.concat([Buffer.from("\u0000\u00ff: \r\n\tno field name\r\nFrom\r\n"), Buffer.alloc(64, 0xff)]);
    const { auth, header } = await verify(garbage, { mailFrom: "" });
    expect(decideTrust(auth, "enforce").action).toBe("accept");
    expect(header).toMatch(/^Authentication-Results: mx\.correo\.test;/);
  });
});

describe("the resolver", () => {
  it("answers TXT records from the cache within their TTL", async () => {
    const first = await resolver("_dmarc.quarantine.test", "TXT");
    const size = resolver.cacheSize();
    expect(first).toEqual([["v=DMARC1; p=quarantine"]]);
    await dnsmasq.stop();
    expect(await resolver("_dmarc.quarantine.test", "TXT")).toEqual(first);
    expect(resolver.cacheSize()).toBe(size);
    dnsmasq = await startDnsmasq(zone);
    resolver = createTrustResolver({ servers: dnsmasq.server, timeoutMs: 800 });
  });

  it("reports NXDOMAIN as ENOTFOUND, an empty answer as ENODATA and silence as ETIMEOUT", async () => {
    await expect(resolver("nothing.relaxed.test", "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(resolver("mail.sender.test", "MX")).rejects.toMatchObject({ code: expect.stringMatching(/ENODATA|ENOTFOUND/) });
    await expect(resolver("_dmarc.slow.example", "TXT")).rejects.toMatchObject({ code: "ETIMEOUT" });
    expect(await resolver("mail.sender.test", "A")).toEqual([SENDER_IP]);
  });
});
