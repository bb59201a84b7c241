import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attachmentOf, buildPayload } from "../src/index.js";

const raw = readFileSync(join(__dirname, "fixtures", "pedido.eml"));
const input = {
  raw,
  messageId: "0b6f3f57-0000-4000-8000-000000000001",
  deliveryId: "7c1e3f57-0000-4000-8000-000000000002",
  routeId: "5b0c9a52-8d3e-4c1e-9f51-2f7a0b3c4d5e",
  receivedAt: new Date("2026-12-02T09:00:01Z"),
  envelopeFrom: "ana@sender.test",
  recipient: "support@shop.test",
  inlineLimitBytes: 16,
  linkFor: (i: number) => `https://api.test/a/${i}`,
};

describe("the inbound payload of a real multipart message", () => {
  it("carries the envelope, decoded subject and text, html with its cid image, and ids", async () => {
    const p = await buildPayload(input);
    expect(p).toMatchObject({
      type: "inbound",
      message_id: input.messageId,
      delivery_id: input.deliveryId,
      route_id: input.routeId,
      received_at: "2026-12-02T09:00:01.000Z",
      envelope: { mail_from: "ana@sender.test", rcpt_to: "support@shop.test" },
      header_message_id: "pedido-17@sender.test",
      subject: "Pedido nº 17",
      to: "Soporte <support@shop.test>",
      text: "Mi pedido nº 17 no llegó.",
    });
    expect(p.html).toContain('<img src="cid:logo@sender.test">');
  });

  it("takes the topmost Authentication-Results (the receiving MX's, RFC 8601 §5), unfolded", async () => {
    const p = await buildPayload(input);
    expect(p.authentication_results).toBe("mx.correo.test;\tspf=pass smtp.mailfrom=ana@sender.test;\tdkim=pass header.d=sender.test");
    expect(p.headers.filter(([n]) => n === "Authentication-Results")).toHaveLength(2);
    expect(p.headers[1]).toEqual(["Received", "from client.sender.test ([192.0.2.7])\tby mx.correo.test with ESMTP; Wed, 02 Dec 2026 09:00:01 +0000"]);
  });

  it("inlines attachments up to the limit and links the larger ones, in mailparser's order", async () => {
    const p = await buildPayload(input);
    expect(p.attachments).toEqual([
      { index: 0, filename: "logo.png", content_type: "image/png", size: 8, content_id: "logo@sender.test", disposition: "inline", content: "iVBORw0KGgo=" },
      { index: 1, filename: "factura.pdf", content_type: "application/pdf", size: 52, content_id: null, disposition: "attachment", url: "https://api.test/a/1" },
    ]);
    // The link's target is the same part.
    expect((await attachmentOf(raw, 1))!.content.subarray(0, 8).toString()).toBe("%PDF-1.4");
    expect(await attachmentOf(raw, 2)).toBeUndefined();
  });
});
