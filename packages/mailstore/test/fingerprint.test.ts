import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { messageFingerprint } from "../src/index.js";

const msg = (...lines: string[]) => Buffer.from(lines.join("\r\n"));
const hex = (raw: Buffer) => messageFingerprint(raw).toString("hex");

const original = msg("From: bob@remote.test", "To: ana@example.test", "Subject: hi", "Message-ID: <1@remote.test>", "", "Hello.", "");

describe("messageFingerprint", () => {
  it("ignores the trace fields hops add (Received, folded or not; Return-Path; Authentication-Results)", () => {
    const resent = msg(
      "Return-Path: <bob@remote.test>",
      "Received: from client.remote.test (client.remote.test [192.0.2.7])",
      "\tby mx.example.test (Correo) with ESMTP id 0f3a;",
      "\tTue, 01 Dec 2026 23:00:05 +0000",
      "Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=remote.test",
      "From: bob@remote.test",
      "To: ana@example.test",
      "received: by relay.remote.test; Tue, 01 Dec 2026 22:59:59 +0000",
      "Subject: hi",
      "Message-ID: <1@remote.test>",
      "",
      "Hello.",
      "",
    );
    expect(hex(resent)).toBe(hex(original));
  });

  it("covers the body byte for byte and every header field the sender wrote", () => {
    expect(hex(msg("From: bob@remote.test", "To: ana@example.test", "Subject: hi", "Message-ID: <1@remote.test>", "", "Hello!", ""))).not.toBe(hex(original));
    expect(hex(msg("From: bob@remote.test", "To: ana@example.test", "Subject: hi", "Message-ID: <2@remote.test>", "", "Hello.", ""))).not.toBe(hex(original));
    expect(hex(msg("From: bob@remote.test", "To: ana@example.test", "Subject: hi!", "Message-ID: <1@remote.test>", "", "Hello.", ""))).not.toBe(hex(original));
    // A "Received:" line in the body is body, not a trace field.
    expect(hex(msg("Subject: x", "", "Received: in the body", ""))).not.toBe(hex(msg("Subject: x", "", "")));
  });

  it("is the same for any trace fields put in front of any message (property)", () => {
    const field = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/).filter((n) => !/^(received|return-path|authentication-results|received-spf|delivered-to|x-original-to)$/i.test(n));
    const value = fc.stringMatching(/^[ -~]{0,40}$/);
    const trace = fc.tuple(fc.constantFrom("Received", "Return-Path", "Authentication-Results", "Received-SPF", "Delivered-To"), value);
    fc.assert(
      fc.property(fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 6 }), fc.array(trace, { maxLength: 4 }), value, (headers, traces, body) => {
        const head = headers.map(([n, v]) => `${n}: ${v}`);
        const plain = Buffer.from([...head, "", body].join("\r\n"));
        const traced = Buffer.from([...traces.map(([n, v]) => `${n}: ${v}`), ...head, "", body].join("\r\n"));
        expect(hex(traced)).toBe(hex(plain));
      }),
    );
  });
});
