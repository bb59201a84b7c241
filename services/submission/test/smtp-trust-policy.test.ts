import { describe, expect, it } from "vitest";
import { trustVerdict } from "../src/smtp/policy/trust.js";
import { formatReply } from "../src/smtp/replies.js";

describe("the MX's end-of-DATA verdict on authentication (issue 14)", () => {
  it("refuses a reject decision with 550 5.7.1 and its reason", () => {
    const v = trustVerdict({ action: "reject", basis: "dmarc-reject", reason: "DMARC policy of x.test is reject and the message fails it (RFC 7489 §6.6.2)" });
    expect(v.verdict === "reject" && formatReply(v.reply)).toBe("550 5.7.1 Message refused: DMARC policy of x.test is reject and the message fails it (RFC 7489 §6.6.2)");
  });

  it("defers a temperror decision with 451 4.7.0", () => {
    const v = trustVerdict({ action: "defer", basis: "temperror", reason: "DMARC of x.test: temporary DNS failure, the verdict cannot be decided yet" });
    expect(v.verdict === "defer" && formatReply(v.reply)).toMatch(/^451 4\.7\.0 Message deferred: DMARC of x\.test: temporary DNS failure.*, try again later$/);
  });

  it("accepts junk (routing files it in Junk) and accept alike", () => {
    expect(trustVerdict({ action: "junk", basis: "dmarc-quarantine", reason: "" }).verdict).toBe("accept");
    expect(trustVerdict({ action: "accept", basis: "authenticated", reason: "" }).verdict).toBe("accept");
  });
});
