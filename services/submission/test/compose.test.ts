import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { composeMessage } from "../src/compose.js";

describe("composeMessage", () => {
  it("builds a MIME message with attachment, Message-ID and Date, and leaves Bcc out", async () => {
    const pdf = Buffer.from("%PDF-1.4 fake but binary \x00\x01\x02", "binary");
    const { raw, headerMessageId } = await composeMessage({
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
    expect(headerMessageId).toMatch(/^<[0-9a-f-]{36}@mx\.correo\.test>$/);
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
