import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { composeMessage } from "../src/compose.js";

describe("composeMessage", () => {
  it("builds a MIME message with attachment, Message-ID and Date, and leaves Bcc out", async () => {
    const pdf = Buffer.from("%PDF-1.4 fake but binary \x00\x01\x02", "binary");
    const { raw, headerMessageId } = await composeMessage({
      id: "0b6f4c1e-8d1a-4c52-9a51-3f1d2c7e9b10",
      from: "Alice <alice@example.test>",
      to: ["bob@example.test"],
      cc: [],
      bcc: ["hidden@example.test"],
      subject: "Informe trimestral — ñandú",
      text: "Hola Bob,\nadjunto el informe.\n",
      headers: { "X-Campaign": "q3" },
      attachments: [{ filename: "informe.pdf", content: pdf, contentType: "application/pdf" }],
      messageIdDomain: "mx.correo.test",
      date: new Date("2026-11-26T10:00:00Z"),
    });
    // One id per message: the Message-ID is the spool's id.
    expect(headerMessageId).toBe("<0b6f4c1e-8d1a-4c52-9a51-3f1d2c7e9b10@mx.correo.test>");
    expect(raw.toString()).not.toMatch(/\nBcc:/i);
    expect(raw.toString()).not.toMatch(/[^\r]\n/);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe("Informe trimestral — ñandú");
    expect(parsed.messageId).toBe(headerMessageId);
    expect(parsed.date?.toISOString()).toBe("2026-11-26T10:00:00.000Z");
    expect(parsed.headers.get("x-campaign")).toBe("q3");
    expect(parsed.text).toBe("Hola Bob,\nadjunto el informe.\n");
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.filename).toBe("informe.pdf");
    expect(parsed.attachments[0]!.content.equals(pdf)).toBe(true);
  });
});
