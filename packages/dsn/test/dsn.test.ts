import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { dsnStatusOf, noticeFor, renderDsn, type DsnInput } from "../src/index.js";

const golden = join(__dirname, "golden");
const original = readFileSync(join(golden, "original.eml"));
const at = (iso: string) => new Date(iso);

const base: Omit<DsnInput, "recipients"> = {
  reportingMta: "mx.correo.test",
  to: "ana@example.com",
  arrivalDate: at("2026-12-01T09:00:00Z"),
  original,
  date: at("2026-12-06T09:00:05Z"),
  messageId: "<dsn-1@mx.correo.test>",
  boundary: "correo-dsn-boundary",
};

/** Golden files (Postfix style: *.eml next to the test). UPDATE_GOLDEN=1 rewrites them. */
function matchesGolden(name: string, actual: Buffer) {
  const file = join(golden, `${name}.eml`);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
  expect(actual.toString("utf8")).toBe(readFileSync(file, "utf8"));
}

describe("RFC 3464 DSN rendering", () => {
  it("reports a remote 550 with Status 5.1.1, the SMTP Diagnostic-Code, ORCPT and ENVID, and only the header for RET=HDRS", async () => {
    const reply = "550 5.1.1 <bob@remote.example>: no such user (mx1.remote.example[192.0.2.10]:25)";
    const dsn = renderDsn({
      ...base,
      ret: "HDRS",
      envelopeId: "QQ+2B314159",
      recipients: [
        {
          finalRecipient: "bob@remote.example",
          originalRecipient: "rfc822;Bob+2Bnews@remote.example",
          action: "failed",
          ...dsnStatusOf(reply, "failed"),
          remoteMta: "mx1.remote.example",
          lastAttemptDate: at("2026-12-01T09:00:02Z"),
        },
      ],
    });
    matchesGolden("failed-hdrs", dsn);
    const text = dsn.toString("utf8");
    expect(text).toContain("Content-Type: multipart/report; report-type=delivery-status;");
    expect(text).toContain("Original-Envelope-Id: QQ+314159");
    expect(text).toContain("Original-Recipient: rfc822; Bob+news@remote.example");
    expect(text).toContain("Status: 5.1.1\r\n");
    expect(text).toContain("Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: no such user\r\n");
    expect(text).toContain("Content-Type: text/rfc822-headers");
    expect(text).not.toContain("adjunto el informe");
    const parsed = await simpleParser(dsn);
    expect(parsed.subject).toBe("Undelivered Mail Returned to Sender");
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
  });

  it("reports an expiry with Status 5.4.7 and the last remote reply, with the whole message for RET=FULL", () => {
    const response = "5.4.7 delivery time expired after 12 attempts; last: 451 4.3.0 mailbox busy, try again later (mx.remote.example[192.0.2.10]:25)";
    const dsn = renderDsn({
      ...base,
      ret: "FULL",
      recipients: [
        { finalRecipient: "bob@remote.example", action: "failed", ...dsnStatusOf(response, "failed"), remoteMta: "mx.remote.example" },
        { finalRecipient: "carol@remote.example", action: "failed", ...dsnStatusOf("5.4.7 delivery time expired after 12 attempts; last: 4.4.1 connection refused (192.0.2.10:25)", "failed") },
      ],
    });
    matchesGolden("expired-full", dsn);
    const text = dsn.toString("utf8");
    expect(text).toContain("Status: 5.4.7\r\nRemote-MTA: dns; mx.remote.example\r\nDiagnostic-Code: smtp; 451 4.3.0 mailbox busy, try again later\r\n");
    expect(text).toContain("Diagnostic-Code: X-Correo; 4.4.1 connection refused\r\n");
    expect(text).toContain("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit");
    expect(text).toContain("Una línea con acento.");
  });

  it("renders a delay warning and a success report", () => {
    matchesGolden(
      "delayed",
      renderDsn({
        ...base,
        ret: "HDRS",
        recipients: [
          {
            finalRecipient: "bob@remote.example",
            action: "delayed",
            ...dsnStatusOf("451 4.3.0 mailbox busy (mx.remote.example[192.0.2.10]:25)", "delayed"),
            willRetryUntil: at("2026-12-06T09:00:00Z"),
          },
        ],
      }),
    );
    const success = renderDsn({
      ...base,
      recipients: [{ finalRecipient: "bob@remote.example", action: "delivered", ...dsnStatusOf("250 2.0.0 Ok: queued as 4F2 (mx.remote.example[192.0.2.10]:25)", "delivered") }],
    });
    matchesGolden("delivered", success);
    expect(success.toString()).toContain("Subject: Successful Mail Delivery Report");
    expect(success.toString()).toContain("Status: 2.0.0\r\n");
  });

  it("returns only the header when no RET was given and the original is large", () => {
    const big = Buffer.concat([original, Buffer.alloc(60_000, "x")]);
    const dsn = renderDsn({ ...base, original: big, recipients: [{ finalRecipient: "b@r.example", action: "failed", status: "5.0.0" }] });
    expect(dsn.toString()).toContain("text/rfc822-headers");
    expect(dsn.length).toBeLessThan(5000);
  });
});

describe("Status and Diagnostic-Code from a stored reply", () => {
  it.each([
    ["550 5.1.1 no such user (mx[1.2.3.4]:25)", "failed", "5.1.1", "smtp; 550 5.1.1 no such user"],
    ["550 <x@y>: no such mailbox here", "failed", "5.0.0", "smtp; 550 <x@y>: no such mailbox here"],
    ["554 5.7.1 relay denied", "failed", "5.7.1", "smtp; 554 5.7.1 relay denied"],
    ["451 4.3.0 busy (mx[1.2.3.4]:25)", "delayed", "4.3.0", "smtp; 451 4.3.0 busy"],
    ["4.4.1 connection refused (1.2.3.4:25)", "delayed", "4.4.1", "X-Correo; 4.4.1 connection refused"],
    ["stored in INBOX as UID 7", "delivered", "2.0.0", undefined],
    ["5.4.7 delivery time expired after 3 attempts; last: 451 4.7.1 greylisted", "failed", "5.4.7", "smtp; 451 4.7.1 greylisted"],
  ] as const)("%s (%s) → %s", (reply, action, status, diagnostic) => {
    expect(dsnStatusOf(reply, action)).toEqual({ status, diagnosticCode: diagnostic });
  });
});

describe("which notice a delivery is owed (RFC 3461 §4.1)", () => {
  const hour = 3_600_000;
  it("sends FAILURE by default, SUCCESS and DELAY only when asked, nothing for NEVER or the null sender", () => {
    const f = (state: "bounced" | "expired" | "delivered" | "deferred", notify: ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[] | null, extra = {}) =>
      noticeFor({ state, notify, envelopeFrom: "ana@example.com", ...extra }, 4 * hour);
    expect(f("bounced", null)).toBe("failure");
    expect(f("expired", null)).toBe("failure");
    expect(f("delivered", null)).toBe("none");
    expect(f("deferred", null, { ageMs: 10 * hour })).toBe("none");
    expect(f("delivered", ["SUCCESS"])).toBe("success");
    expect(f("bounced", ["SUCCESS"])).toBe("none");
    expect(f("deferred", ["DELAY"], { ageMs: 3 * hour })).toBe("none");
    expect(f("deferred", ["DELAY"], { ageMs: 4 * hour })).toBe("delay");
    expect(f("deferred", ["DELAY"], { ageMs: 5 * hour, delayNoticeSent: true })).toBe("none");
    expect(f("bounced", ["NEVER"])).toBe("none");
    expect(noticeFor({ state: "bounced", notify: null, envelopeFrom: "" }, hour)).toBe("none");
  });
});
