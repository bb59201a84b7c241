import { describe, expect, it } from "vitest";
import { connectionCapVerdict } from "../src/smtp/connection-cap.js";
import { formatReply } from "../src/smtp/replies.js";

describe("SMTP global connection cap (SMTP_MAX_CONNECTIONS)", () => {
  it("lets connections in up to the cap, this one counted", () => {
    expect(connectionCapVerdict(1, 3)).toBeUndefined();
    expect(connectionCapVerdict(3, 3)).toBeUndefined();
  });

  it("refuses the one past the cap with 421 4.3.2 (RFC 5321 §3.8, RFC 3463 X.3.2)", () => {
    const refused = connectionCapVerdict(4, 3);
    expect(refused && formatReply(refused)).toBe("421 4.3.2 Too many connections, try again later");
  });
});
