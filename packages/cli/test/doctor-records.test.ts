import { describe, expect, it } from "vitest";
import { reverseName } from "../src/doctor/lookups.js";
import { dkimCheck, dmarcCheck, mxCheck, portCheck, ptrCheck, spfCheck } from "../src/doctor/records.js";

const HOST = "mail.example.test";

describe("the records a hosted domain needs", () => {
  it("MX: one exchange must be this host (RFC 5321 §5.1)", () => {
    expect(mxCheck("example.test", HOST, [{ exchange: "MAIL.example.test", priority: 10 }])).toMatchObject({ status: "ok", fix: null });
    expect(mxCheck("example.test", HOST, [])).toMatchObject({ status: "change", fix: "publish example.test. IN MX 10 mail.example.test." });
    expect(mxCheck("example.test", HOST, [{ exchange: "mx.elsewhere.test", priority: 5 }]).fix).toMatch(/and remove 5 mx\.elsewhere\.test\./);
  });

  it("SPF: exactly one v=spf1 record that lets this host send (RFC 7208 §4.5)", () => {
    expect(spfCheck("example.test", HOST, ["127.0.0.1"], ["v=spf1 mx -all", "google-site-verification=x"])).toMatchObject({ status: "ok", published: ["v=spf1 mx -all"] });
    expect(spfCheck("example.test", HOST, ["192.0.2.7"], ["v=spf1 ip4:192.0.2.7 ~all"]).status).toBe("ok");
    expect(spfCheck("example.test", HOST, [], [`v=spf1 a:${HOST} -all`]).status).toBe("ok");
    expect(spfCheck("example.test", HOST, [], [])).toMatchObject({ status: "change", fix: 'publish example.test. IN TXT "v=spf1 mx -all"' });
    expect(spfCheck("example.test", HOST, [], ["v=spf1 mx -all", "v=spf1 -all"]).fix).toMatch(/keep one SPF record/);
    expect(spfCheck("example.test", HOST, ["192.0.2.7"], ["v=spf1 include:_spf.other.test -all"]).fix).toBe(
      'the SPF record does not let mail.example.test send: publish example.test. IN TXT "v=spf1 mx include:_spf.other.test -all"',
    );
  });

  it("DKIM: the published p= must be the domain's own public key (RFC 6376 §3.6.1)", () => {
    const key = { name: "correo._domainkey.example.test", value: "v=DKIM1; k=rsa; p=MIIBkey", publicKey: "MIIBkey" };
    expect(dkimCheck("example.test", key, ["v=DKIM1; k=rsa; p=MIIB key"]).status).toBe("ok");
    expect(dkimCheck("example.test", key, ["v=DKIM1; k=rsa; p=MIIBother"])).toMatchObject({ status: "change", fix: expect.stringMatching(/not the domain's key/) });
    expect(dkimCheck("example.test", key, [])).toMatchObject({ status: "change", expected: key.value });
    expect(dkimCheck("example.test", undefined, []).fix).toMatch(/correo dkim generate example\.test/);
  });

  it("DMARC: one v=DMARC1 record with a policy (RFC 7489 §6.1)", () => {
    expect(dmarcCheck("example.test", ["v=DMARC1; p=reject"]).status).toBe("ok");
    expect(dmarcCheck("example.test", ["v=DMARC1; rua=mailto:x@example.test"]).status).toBe("change");
    expect(dmarcCheck("example.test", []).fix).toBe('publish _dmarc.example.test. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"');
  });

  it("PTR names this host; a port that does not answer is to change", () => {
    expect(ptrCheck("192.0.2.7", HOST, ["mail.example.test"]).status).toBe("ok");
    expect(ptrCheck("192.0.2.7", HOST, ["host-7.provider.test"]).fix).toMatch(/set its PTR record to mail\.example\.test/);
    expect(portCheck("192.0.2.7", 25, "SMTP MX, SMTP_MX_PORT", false, "ECONNREFUSED")).toMatchObject({ status: "change", name: "192.0.2.7:25", published: ["ECONNREFUSED"] });
    expect(portCheck("2001:db8::7", 25, "SMTP MX", true).name).toBe("[2001:db8::7]:25");
  });
});

describe("reverse names", () => {
  it("writes IPv4 and IPv6 PTR owner names (RFC 1035 §3.5, RFC 3596 §2.5)", () => {
    expect(reverseName("192.0.2.7")).toBe("7.2.0.192.in-addr.arpa");
    expect(reverseName("2001:db8::567:89ab")).toBe("b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  });
});
