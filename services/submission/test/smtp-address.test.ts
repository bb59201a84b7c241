import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { splitAddressCommand } from "../src/smtp/path.js";
import { precheckRecipient } from "../src/smtp/policy/rcpt.js";
import { decideInboundSender, senderSyntax } from "../src/smtp/policy/mail.js";
import { formatReply } from "../src/smtp/replies.js";
import type { Verdict } from "../src/smtp/verdict.js";

const line = (v: Verdict) => (v.verdict === "accept" ? "accept" : formatReply(v.reply).slice(0, 9));
const text = (v: Verdict) => (v.verdict === "accept" ? "accept" : formatReply(v.reply));
const mx = { authenticated: false, accepted: 0, maxRecipients: 100, smtpUtf8: false };
const authed = { ...mx, authenticated: true };
const longest = `${"a".repeat(64)}@${"b".repeat(63)}.${"b".repeat(63)}.${"c".repeat(61)}`;

describe("the path of MAIL FROM and RCPT TO (RFC 5321 §4.1.2)", () => {
  it.each([
    ["MAIL FROM:<a@b.test>", { verb: "MAIL FROM", address: "a@b.test", params: "" }],
    ["mail from: <a@b.test> SIZE=10 BODY=8BITMIME", { verb: "MAIL FROM", address: "a@b.test", params: "SIZE=10 BODY=8BITMIME" }],
    ["MAIL FROM:<>", { verb: "MAIL FROM", address: "", params: "" }],
    ['RCPT TO:<"a b"@x.test> NOTIFY=NEVER', { verb: "RCPT TO", address: '"a b"@x.test', params: "NOTIFY=NEVER" }],
    ['RCPT TO:<"a>b"@x.test>', { verb: "RCPT TO", address: '"a>b"@x.test', params: "" }],
    ['RCPT TO:<"a\\"> b"@x.test>', { verb: "RCPT TO", address: '"a\\"> b"@x.test', params: "" }],
    ["RCPT TO:<@relay.test,@other.test:a@x.test>", { verb: "RCPT TO", address: "a@x.test", params: "" }],
    ["RCPT TO:<a@[IPv6:2001:db8::1]>", { verb: "RCPT TO", address: "a@[IPv6:2001:db8::1]", params: "" }],
    ["RCPT TO:<Postmaster>", { verb: "RCPT TO", address: "Postmaster", params: "" }],
    ["RCPT TO:<test . test@x.test>", { verb: "RCPT TO", address: "test . test@x.test", params: "" }],
  ])("reads %s", (command, expected) => {
    expect(splitAddressCommand(command)).toEqual(expected);
  });

  it.each(["MAIL FROM a@b.test", "MAIL FROM:a@b.test", "MAIL FROM:<a@b.test", 'MAIL FROM:<"a@b.test>', "MAIL FROM:<a@b.test>x", "MAIL FROM:<a<b@c.test>"])(
    "refuses the shape of %s",
    (command) => {
      expect(splitAddressCommand(command)).toBeUndefined();
    },
  );

  it("hands on what is inside the brackets unchanged, parameters apart (property)", () => {
    const inside = fc.string({ maxLength: 60 }).filter((s) => !/[<>"]/.test(s) && !s.startsWith("@"));
    const params = fc.constantFrom("", "SIZE=100", "BODY=8BITMIME SMTPUTF8", "NOTIFY=NEVER");
    fc.assert(
      fc.property(inside, params, (s, p) => {
        expect(splitAddressCommand(`RCPT TO:<${s}>${p ? ` ${p}` : ""}`)).toEqual({ verb: "RCPT TO", address: s, params: p });
      }),
      { numRuns: 2000 },
    );
  });
});

describe("address syntax on MAIL FROM and RCPT TO", () => {
  it("accepts a 254-octet mailbox, the longest a 256-octet path holds (RFC 5321 §4.5.3.1.3)", () => {
    expect(longest).toHaveLength(254);
    expect(line(senderSyntax(longest))).toBe("accept");
    expect(line(precheckRecipient(longest, authed))).toBe("accept");
  });

  it("refuses a 65-octet local part as a syntax error, 501 5.1.3 / 5.1.7, naming the limit", () => {
    const address = `${"a".repeat(65)}@example.test`;
    expect(text(precheckRecipient(address, mx))).toMatch(/^501 5\.1\.3 .*local part of 65 octets; the limit is 64/);
    expect(text(senderSyntax(address))).toMatch(/^501 5\.1\.7 .*local part of 65 octets/);
  });

  it("accepts address literals and single-label or numeric top-level domains as senders", () => {
    for (const a of ["bob@[192.0.2.1]", "bob@[IPv6:2001:db8::1]", "test@io", "test@iana.123", '"bob smith"@example.net']) {
      expect(line(decideInboundSender(a)), a).toBe("accept");
    }
  });

  it("refuses as syntax what the issue saw rewritten, never reading it as another address", () => {
    for (const a of ["test . test@x.test", 'test"text"@x.test', '"test@x.test', "\u0000@x.test", "\u007f@x.test", ".test@x.test", "test@x.test."]) {
      expect(line(precheckRecipient(a, mx)), a).toBe("501 5.1.3");
      expect(line(senderSyntax(a)), a).toBe("501 5.1.7");
    }
  });

  it("says policy, not syntax, for valid addresses Correo refuses", () => {
    expect(text(precheckRecipient("victim@[192.0.2.1]", mx))).toMatch(/^554 5\.7\.1 .*refused by policy$/);
    expect(text(precheckRecipient('"victim@elsewhere.test"@hosted.test', mx))).toMatch(/^554 5\.7\.1 .*quoted local part, refused by policy$/);
    expect(text(precheckRecipient('"victim%elsewhere.test"@hosted.test', authed))).toMatch(/^554 5\.7\.1 .*refused by policy$/);
  });

  it("refuses a malformed address literal as syntax, and a malformed address that spells a route as the relay trick", () => {
    expect(text(precheckRecipient("victim@[192.0.2.256]", mx))).toMatch(/^501 5\.1\.3 .*neither an IPv4 address nor IPv6/);
    expect(text(precheckRecipient("victim@[IPv6:1::2::3]", mx))).toMatch(/^501 5\.1\.3 /);
    expect(line(precheckRecipient("victim@elsewhere.test@hosted.test", mx))).toBe("554 5.7.1");
    expect(line(precheckRecipient("@hosted.test:victim@elsewhere.test", mx))).toBe("554 5.7.1");
  });

  it("takes UTF-8 addresses only with SMTPUTF8 (RFC 6531), 553 5.6.7 otherwise", () => {
    expect(line(precheckRecipient("josé@example.test", mx))).toBe("553 5.6.7");
    expect(line(precheckRecipient("josé@example.test", { ...mx, smtpUtf8: true }))).toBe("accept");
    expect(line(senderSyntax("josé@españa.test", false))).toBe("553 5.6.7");
    expect(line(senderSyntax("josé@españa.test", true))).toBe("accept");
  });

  it("never echoes control characters in a reply", () => {
    expect(text(precheckRecipient("a\u0000b@x.test", mx))).not.toMatch(/[\x00-\x1f]/);
  });
});
