import type { RecipientStatus } from "@correo/directory";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { scanLines } from "../src/smtp/bare-newline.js";
import { relayTrick } from "../src/smtp/policy/address.js";
import { decideRecipient, precheckRecipient } from "../src/smtp/policy/rcpt.js";
import { decideInboundSender, decideSubmissionSender } from "../src/smtp/policy/mail.js";
import { decideAuth } from "../src/smtp/policy/auth.js";
import { inspectMessage } from "../src/smtp/policy/data.js";
import { formatReply } from "../src/smtp/replies.js";
import type { Verdict } from "../src/smtp/verdict.js";

const line = (v: Verdict) => (v.verdict === "accept" ? "accept" : formatReply(v.reply).slice(0, 9));
const mx = { authenticated: false, accepted: 0, maxRecipients: 100 };
const authed = { authenticated: true, accepted: 0, maxRecipients: 100 };

describe("bare line endings (SMTP smuggling)", () => {
  it.each([
    ["<LF>.<LF>", "a\r\nb\n.\nMAIL FROM:<x@y>\r\n", "LF"],
    ["<CR>.<CR>", "a\r\nb\r.\rMAIL FROM:<x@y>\r\n", "CR"],
    ["<LF>.<CR><LF>", "a\r\nb\n.\r\nMAIL FROM:<x@y>\r\n", "LF"],
    ["<CR><LF>.<LF>", "a\r\nb\r\n.\nMAIL FROM:<x@y>\r\n", "LF"],
    ["<CR><LF>.<CR>", "a\r\nb\r\n.\rMAIL FROM:<x@y>\r\n", "CR"],
    ["<CR>.<CR><LF>", "a\r\nb\r.\r\nMAIL FROM:<x@y>\r\n", "CR"],
    ["bare LF line ending", "Subject: x\n\r\nbody\r\n", "LF"],
    ["bare CR line ending", "Subject: x\r\r\nbody\r\n", "CR"],
    ["<LF><LF>", "a\r\n\n\nb\r\n", "LF"],
    ["a CR at the very end", "a\r\nb\r", "CR"],
  ])("finds the bare line ending in %s", (_name, text, which) => {
    expect(scanLines(Buffer.from(text, "latin1")).bare).toBe(which);
  });

  it("passes canonical CRLF text and measures its longest line", () => {
    const scan = scanLines(Buffer.from("Subject: hi\r\n\r\n" + "x".repeat(998) + "\r\nend\r\n"));
    expect(scan.bare).toBeUndefined();
    expect(scan.longestLine).toBe(998);
  });

  it("agrees with a regular expression on any byte string (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0x0d, 0x0a, 0x2e, 0x41, 0x20), { maxLength: 60 }), (bytes) => {
        const text = Buffer.from(bytes).toString("latin1");
        const hasBare = /\r(?!\n)|(?<!\r)\n/.test(text);
        expect(scanLines(Buffer.from(bytes)).bare !== undefined).toBe(hasBare);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("relay tricks", () => {
  it.each([
    ["victim%example.net@hosted.test", "percent hack"],
    ["example.net!victim@hosted.test", "bang path"],
    ['"victim@example.net"@hosted.test', "quoted local part"],
    ["victim@[192.0.2.1]", "IP-literal"],
    ["@hosted.test:victim@example.net", "source route"],
    ["victim@example.net@hosted.test", "more than one @"],
  ])("refuses %s (%s)", (address, why) => {
    expect(relayTrick(address)).toMatch(new RegExp(why.split(" ")[0]!, "i"));
    expect(line(precheckRecipient(address, mx))).toBe("554 5.7.1");
    expect(line(precheckRecipient(address, authed))).toBe("554 5.7.1");
  });

  it("lets ordinary addresses through, plus-tags included", () => {
    for (const a of ["ana@hosted.test", "ana+news@hosted.test", "o'brien@hosted.test", "a.b-c_d@sub.hosted.test"]) {
      expect(relayTrick(a)).toBeUndefined();
    }
  });
});

describe("RCPT TO", () => {
  it("refuses relaying for unauthenticated clients with 554 5.7.1", () => {
    expect(line(decideRecipient("x@example.net", { kind: "not-hosted", domain: "example.net" }, mx))).toBe("554 5.7.1");
  });
  it("lets an authenticated account send anywhere", () => {
    expect(line(decideRecipient("x@example.net", { kind: "not-hosted", domain: "example.net" }, authed))).toBe("accept");
  });
  it("refuses unknown local users with 550 5.1.1 and disabled ones with 550 5.2.1", () => {
    expect(line(decideRecipient("nobody@hosted.test", { kind: "unknown", domain: "hosted.test" }, mx))).toBe("550 5.1.1");
    expect(line(decideRecipient("nobody@hosted.test", { kind: "unknown", domain: "hosted.test" }, authed))).toBe("550 5.1.1");
    expect(line(decideRecipient("off@hosted.test", { kind: "disabled", accountId: 1 }, mx))).toBe("550 5.2.1");
  });
  it("accepts existing local recipients", () => {
    expect(line(decideRecipient("ana@hosted.test", { kind: "local", accountId: 1, address: "ana@hosted.test" }, mx))).toBe("accept");
  });
  it("accepts aliases and catch-alls of hosted domains from other servers", () => {
    const alias: RecipientStatus = { kind: "alias", address: "team@hosted.test", targets: ["ana@hosted.test", "x@elsewhere.test"], catchAll: false };
    expect(line(decideRecipient("team@hosted.test", alias, mx))).toBe("accept");
    const catchAll: RecipientStatus = { kind: "alias", address: "@hosted.test", targets: ["ana@hosted.test"], catchAll: true };
    expect(line(decideRecipient("whoever@hosted.test", catchAll, mx))).toBe("accept");
  });
  it("accepts an inbound route's address from other servers without any account (issue 15)", () => {
    const route: RecipientStatus = { kind: "inbound", routeId: "5b0c9a52-8d3e-4c1e-9f51-2f7a0b3c4d5e", pattern: "support@hosted.test" };
    expect(line(decideRecipient("support@hosted.test", route, mx))).toBe("accept");
  });
  it("defers recipients over the limit with 452 4.5.3 (RFC 5321 §4.5.3.1.10)", () => {
    expect(line(precheckRecipient("ana@hosted.test", { ...mx, accepted: 100 }))).toBe("452 4.5.3");
    expect(line(precheckRecipient("ana@hosted.test", { ...mx, accepted: 99 }))).toBe("accept");
  });
});

describe("MAIL FROM", () => {
  it("accepts the null sender and any well-formed sender from other servers", () => {
    expect(line(decideInboundSender(""))).toBe("accept");
    expect(line(decideInboundSender("bob@example.net"))).toBe("accept");
    expect(line(decideInboundSender("not-an-address"))).toBe("501 5.1.7");
  });
  it("refuses senders the account does not own with 553 5.7.1, and the null sender", () => {
    const ctx = { owned: false, sentThisHour: 0, messagesPerHour: 10 };
    expect(line(decideSubmissionSender("boss@hosted.test", ctx))).toBe("553 5.7.1");
    expect(line(decideSubmissionSender("", { ...ctx, owned: true }))).toBe("553 5.7.1");
    expect(line(decideSubmissionSender("ana@hosted.test", { ...ctx, owned: true }))).toBe("accept");
  });
  it("defers an account over its hourly message limit with 450 4.7.1", () => {
    expect(line(decideSubmissionSender("ana@hosted.test", { owned: true, sentThisHour: 10, messagesPerHour: 10 }))).toBe("450 4.7.1");
  });
});

describe("AUTH replies", () => {
  it("accepts the right password, however many failures the account has had elsewhere", () => {
    expect(line(decideAuth({ outcome: "ok", account: { id: 1 } }, 2, 3))).toBe("accept");
  });
  it("refuses a throttled client address with 454 4.7.0 and says when to come back", () => {
    const v = decideAuth({ outcome: "refused", retryAfterMs: 89_500 }, 0, 3);
    expect(line(v)).toBe("454 4.7.0");
    expect(v.verdict !== "accept" && v.reply.text).toMatch(/from your address, try again in 90 seconds/);
  });
  it("answers 535 5.7.8, then 421 once the session failed too often", () => {
    expect(line(decideAuth({ outcome: "failed", delayMs: 0 }, 1, 3))).toBe("535 5.7.8");
    expect(line(decideAuth({ outcome: "failed", delayMs: 0 }, 3, 3))).toBe("421 4.7.0");
  });
});

describe("DATA", () => {
  const limits = { maxLineLength: 998, maxReceived: 30 };
  const msg = (headers: string) => Buffer.from(`${headers}Subject: x\r\n\r\nbody\r\n`);
  it("refuses a mail loop of more than 30 Received: headers with 554 5.4.6", () => {
    expect(line(inspectMessage(msg("Received: from a by b; x\r\n".repeat(31)), limits).verdict)).toBe("554 5.4.6");
    expect(line(inspectMessage(msg("Received: from a by b; x\r\n".repeat(30)), limits).verdict)).toBe("accept");
  });
  it("refuses lines longer than 998 characters and bare newlines with 550 5.5.2", () => {
    expect(line(inspectMessage(Buffer.from(`Subject: x\r\n\r\n${"y".repeat(999)}\r\n`), limits).verdict)).toBe("550 5.5.2");
    expect(line(inspectMessage(Buffer.from("Subject: x\r\n\r\nbody\n.\n"), limits).verdict)).toBe("550 5.5.2");
  });
  it("refuses a NUL in the header with 554 5.6.0 (permanent), and leaves one in the body alone", () => {
    expect(line(inspectMessage(Buffer.from("Subject: a\0b\r\n\r\nbody\r\n"), limits).verdict)).toBe("554 5.6.0");
    expect(line(inspectMessage(Buffer.from("X-A: 1\r\n\0X-B: 2\r\n\r\nbody\r\n"), limits).verdict)).toBe("554 5.6.0");
    // No empty line: all of it is header.
    expect(line(inspectMessage(Buffer.from("Subject: a\r\nX: \0\r\n"), limits).verdict)).toBe("554 5.6.0");
    expect(line(inspectMessage(Buffer.from("Subject: a\r\n\r\nbo\0dy\r\n"), limits).verdict)).toBe("accept");
  });
});
