import { describe, expect, it } from "vitest";
import { describeMessage, type MessageRecord } from "@correo/mailstore";
import { attachmentAt, MAX_PARSED_PARTS, viewMessage } from "../src/http/message-view.js";

/** A stored message as the mailbox keeps it: the raw bytes and the structure parsed at delivery. */
function record(raw: Buffer): MessageRecord {
  const d = describeMessage(raw);
  return { uid: 1, flags: [], modseq: 1, internalDate: new Date(0), size: raw.length, blobId: "0".repeat(64), envelope: d.envelope, bodyStructure: d.bodyStructure, raw };
}

function multipart(parts: number): Buffer {
  const lines = ["From: A <a@example.test>", "Subject: =?utf-8?q?muchas_partes?=", 'Content-Type: multipart/mixed; boundary="x"', ""];
  for (let i = 0; i < parts; i++) {
    lines.push("--x");
    lines.push(...(i % 2 ? [`Content-Type: text/plain; name="p${i}.txt"`, `Content-Disposition: attachment; filename="p${i}.txt"`, "", `file ${i}`] : ["Content-Type: text/plain", "", `text ${i}`]));
  }
  lines.push("--x--", "");
  return Buffer.from(lines.join("\r\n"));
}

describe("the message view when mailparser refuses the message whole", () => {
  it("reads a message within the parser's limit whole: partial is null", async () => {
    const view = await viewMessage(record(multipart(10)), multipart(10));
    expect(view.partial).toBeNull();
    expect(view.attachments).toHaveLength(5);
  });

  it("reads the header and the first parts one by one past the limit, and says so", async () => {
    const raw = multipart(MAX_PARSED_PARTS + 1);
    const view = await viewMessage(record(raw), raw);
    expect(view.partial).toMatchObject({ parts_total: MAX_PARSED_PARTS + 1, parts_read: MAX_PARSED_PARTS });
    expect(view.partial!.reason).toContain("Max allowed child nodes exceeded");
    expect(view.subject).toBe("muchas partes");
    expect(view.from).toEqual([{ name: "A", address: "a@example.test" }]);
    expect(view.text!.split("\n").slice(0, 2)).toEqual(["text 0", "text 2"]);
    expect(view.attachments).toHaveLength(MAX_PARSED_PARTS / 2);
    const last = await attachmentAt(record(raw), raw, MAX_PARSED_PARTS / 2 - 1);
    expect(last?.view.filename).toBe(`p${MAX_PARSED_PARTS - 1}.txt`);
    expect(last?.content.toString()).toBe(`file ${MAX_PARSED_PARTS - 1}`);
  });

  it("still answers for a header larger than the parser takes, with the fields read from the raw header", async () => {
    const raw = Buffer.from(`Subject: big\r\nX-Filler: ${"a".repeat(1_100_000)}\r\n\r\nbody\r\n`);
    const view = await viewMessage(record(raw), raw);
    expect(view.partial).not.toBeNull();
    expect(view.headers[0]).toEqual({ name: "Subject", value: "big" });
    expect(view.subject).toBe("big");
  });
});
