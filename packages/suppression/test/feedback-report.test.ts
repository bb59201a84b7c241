import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseFeedbackReport } from "../src/feedback-report.js";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", name));

describe("parseFeedbackReport (RFC 5965)", () => {
  it("reads the feedback fields and the returned message's identifiers", async () => {
    const parsed = await parseFeedbackReport(fixture("arf-abuse.eml"));
    expect(parsed.kind).toBe("report");
    if (parsed.kind !== "report") return;
    expect(parsed.report).toMatchObject({
      feedbackType: "abuse",
      userAgent: "SomeGenerator/1.0",
      originalRcptTo: ["carol@remote.example"],
      originalMailFrom: "sender@example.test",
      reportingMta: "dns; mail.isp.example",
      originalMessageId: "<1b4e28ba-2fa1-11d2-883f-0016d3cca427@mail.example.test>",
      correoMessageIds: ["1b4e28ba-2fa1-11d2-883f-0016d3cca427"],
      originalHeaderRecipients: ["carol@remote.example"],
    });
  });

  it("refuses a multipart/report that is a DSN (report-type=delivery-status)", async () => {
    const raw = fixture("arf-abuse.eml").toString().replace("report-type=feedback-report", "report-type=delivery-status");
    const parsed = await parseFeedbackReport(Buffer.from(raw));
    expect(parsed).toEqual({ kind: "not-a-report", why: "report-type is delivery-status, not feedback-report (RFC 5965 §2)" });
  });

  it("refuses a plain message", async () => {
    const parsed = await parseFeedbackReport(Buffer.from("From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n"));
    expect(parsed.kind).toBe("not-a-report");
  });

  it("refuses a report without a Feedback-Type", async () => {
    const raw = fixture("arf-abuse.eml").toString().replace("Feedback-Type: abuse\r\n", "");
    expect(await parseFeedbackReport(Buffer.from(raw))).toMatchObject({ kind: "not-a-report", why: expect.stringContaining("Feedback-Type") });
  });
});
