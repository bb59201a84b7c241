import { describe, expect, it } from "vitest";
import { forwardSender } from "../src/forward-sender.js";

const srs = { secrets: ["s"], domain: "hosted.test" };
const now = new Date("2026-12-02T10:00:00Z");

describe("the envelope sender of a delivery an alias forwards outside", () => {
  it("is an SRS0 address of SRS_DOMAIN for an outside sender", () => {
    expect(forwardSender({ sender: "eva@origin.test", senderHosted: false, srs, now })).toEqual({
      kind: "rewrite",
      envelopeFrom: expect.stringMatching(/^SRS0=.{4}=[A-Z2-7]{2}=origin\.test=eva@hosted\.test$/),
    });
  });

  it.each([
    ["SRS is off", { sender: "eva@origin.test", senderHosted: false, srs: undefined, now }, "SRS is off"],
    ["the sender is <> (RFC 5321 §4.5.5)", { sender: "", senderHosted: false, srs, now }, "null sender <>"],
    ["the sender is hosted here", { sender: "ana@hosted.test", senderHosted: true, srs, now }, "sender is hosted here"],
    ["the sender is of the SRS domain", { sender: "x@HOSTED.test", senderHosted: false, srs, now }, "sender is of the SRS domain"],
    ["the sender is no mailbox", { sender: "nobody", senderHosted: false, srs, now }, "<nobody> is not local@domain; only a mailbox can be rewritten"],
  ])("keeps the sender when %s", (_what, facts, why) => {
    expect(forwardSender(facts)).toEqual({ kind: "keep", why });
  });
});
