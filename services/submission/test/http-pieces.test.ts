import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeCursor, encodeCursor } from "../src/http/cursor.js";
import { decideIdempotency, requestFingerprint } from "../src/http/idempotency.js";
import { canonicalLineEndings, rawMessageProblem } from "../src/http/raw-route.js";
import { readHeaderSection, headerValue, rfc5322Date } from "../src/message-headers.js";
import { receivedHeader } from "../src/received.js";

describe("cursor", () => {
  it("round-trips any position and refuses anything else", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 17n }), fc.uuid(), (us, id) => {
        const c = { createdAtMicros: us.toString(), id };
        expect(decodeCursor(encodeCursor(c))).toEqual(c);
      }),
    );
    expect(decodeCursor("bm9wZQ")).toBeUndefined();
  });
});

describe("Idempotency-Key", () => {
  it("replays the first response for the same request and refuses a different one", () => {
    const a = requestFingerprint("POST", "/v1/messages", { from: "a@b.test", text: "1" });
    const b = requestFingerprint("POST", "/v1/messages", { from: "a@b.test", text: "2" });
    const stored = { requestHash: a, response: { status: 202, body: { id: "x" } } };
    expect(decideIdempotency(undefined, a)).toEqual({ kind: "new" });
    expect(decideIdempotency(stored, a)).toEqual({ kind: "replay", response: stored.response });
    expect(decideIdempotency(stored, b)).toEqual({ kind: "mismatch" });
  });
});

describe("raw messages", () => {
  it("canonicalises line endings to CRLF", () => {
    expect(canonicalLineEndings(Buffer.from("a\nb\rc\r\nd")).toString()).toBe("a\r\nb\r\nc\r\nd");
  });
  it("says what is wrong with a message that is not one", () => {
    expect(rawMessageProblem(Buffer.from("hello world\r\n\r\nbody"))).toMatch(/header field/);
    expect(rawMessageProblem(Buffer.from("From: a@b.test\r\nnot a header\r\n\r\nbody"))).toMatch(/line 2/);
    expect(rawMessageProblem(Buffer.from("From: a@b.test\r\nSubject: x\r\n y\r\n\r\nbody"))).toBeUndefined();
    expect(rawMessageProblem(Buffer.from("From: a@b.test\r\nSubject: x\0y\r\n\r\nbody"))).toBe("header line 2 holds a NUL octet (RFC 5322 §4)");
    expect(rawMessageProblem(Buffer.from("From: a@b.test\r\n\r\nbo\0dy"))).toBeUndefined();
  });
  it("reads unfolded header fields", () => {
    const h = readHeaderSection(Buffer.from("Subject: a\r\n b\r\nMessage-ID: <1@x>\r\n\r\nSubject: body"));
    expect(headerValue(h, "subject")).toBe("a b");
    expect(headerValue(h, "Message-Id")).toBe("<1@x>");
  });
});

describe("trace header", () => {
  it("writes an RFC 5321 §4.4 Received: line and keeps client text from breaking it", () => {
    const r = receivedHeader({
      helo: "evil)\r\nX-Injected: yes",
      clientAddress: "192.0.2.7",
      hostname: "mx.correo.test",
      protocol: "ESMTPS",
      id: "abc.1",
      recipient: "ana@hosted.test",
      date: new Date("2026-11-26T10:00:00Z"),
    });
    expect(r).toBe(
      "Received: from evil???X-Injected:?yes ([192.0.2.7])\r\n\tby mx.correo.test (Correo) with ESMTPS id abc.1\r\n\tfor <ana@hosted.test>;\r\n\tThu, 26 Nov 2026 10:00:00 +0000",
    );
    expect(rfc5322Date(new Date("2026-01-05T03:04:05Z"))).toBe("Mon, 5 Jan 2026 03:04:05 +0000");
  });
});
