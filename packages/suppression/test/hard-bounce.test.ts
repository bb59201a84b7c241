import { describe, expect, it } from "vitest";
import { classifyBounce } from "../src/hard-bounce.js";

describe("classifyBounce (RFC 3463)", () => {
  it.each([
    ["550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown", "5.1.1"],
    ["550-5.1.1 The email account that you tried to reach does not exist.", "5.1.1"],
    ["550 5.1.2 host remote.example not found", "5.1.2"],
    ["553 5.1.3 bad address syntax", "5.1.3"],
    ["551 5.1.6 mailbox moved", "5.1.6"],
    ["556 5.1.10 recipient has null MX", "5.1.10"],
    ["550 5.2.1 mailbox disabled", "5.2.1"],
    ["5.1.2 domain remote.example has a null MX (RFC 7505)", "5.1.2"],
  ])("suppresses the address on %s", (reply, status) => {
    expect(classifyBounce(reply)).toEqual({ suppress: true, status });
  });

  it.each([
    ["452 4.2.2 mailbox full, try later", "not a permanent failure"],
    ["450 4.1.1 try again", "not a permanent failure"],
    ["550 5.7.1 Message rejected by policy", "security or policy"],
    ["554 5.7.26 DMARC failure", "security or policy"],
    ["552 5.2.2 mailbox full", "the mailbox exists"],
    ["552 5.3.4 message too big for system", "mail system status"],
    ["554 5.4.4 unable to route", "network or routing"],
    ["550 5.6.0 content refused", "content"],
    ["553 5.1.8 sender domain does not exist", "does not condemn"],
    ["550 Requested action not taken: mailbox unavailable", "no enhanced status code"],
    ["550 4.1.1 confused", "disagree"],
  ])("keeps the address on %s", (reply, why) => {
    const v = classifyBounce(reply);
    expect(v.suppress).toBe(false);
    expect(v.suppress === false && v.why).toContain(why);
  });
});
