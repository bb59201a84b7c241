import { describe, expect, it } from "vitest";
import { ContractError, parseEvent } from "../src/index.js";

const submitted = {
  type: "message.submitted",
  version: 1,
  messageId: "0b8f3f0e-6a43-4f7e-9b0c-1d2e3f405162",
  blobId: "a".repeat(64),
  envelopeFrom: "alice@example.test",
  deliveries: [{ deliveryId: "1b8f3f0e-6a43-4f7e-9b0c-1d2e3f405162", recipient: "bob@example.test" }],
  submittedAt: "2026-11-26T12:00:00.000Z",
};

describe("event contracts", () => {
  it("accepts a valid message.submitted event", () => {
    expect(parseEvent("message.submitted", submitted)).toEqual(submitted);
  });

  it("accepts the null sender as an empty reverse-path", () => {
    expect(() => parseEvent("message.submitted", { ...submitted, envelopeFrom: "" })).not.toThrow();
  });

  it("refuses an event without recipients, with an unknown field, or with an inline body", () => {
    expect(() => parseEvent("message.submitted", { ...submitted, deliveries: [] })).toThrow(ContractError);
    expect(() => parseEvent("message.submitted", { ...submitted, body: "inline" })).toThrow(/body/);
    expect(() => parseEvent("message.submitted", { ...submitted, blobId: "not-a-sha256" })).toThrow(/blobId/);
  });

  it("refuses a document of another type or version", () => {
    expect(() => parseEvent("message.submitted", { ...submitted, version: 2 })).toThrow(ContractError);
    expect(() => parseEvent("delivery.local", submitted)).toThrow(ContractError);
  });
});
