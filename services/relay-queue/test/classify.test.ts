import { describe, expect, it } from "vitest";
import { classifyError, classifyReply } from "../src/classify.js";

describe("SMTP reply classification (RFC 5321 §4.2.1)", () => {
  it("delivers on 2yz and keeps the reply", () => {
    expect(classifyReply(250, "250 2.0.0 OK queued as 1234")).toEqual({ outcome: "delivered", reply: "250 2.0.0 OK queued as 1234" });
  });

  it("defers on 4yz", () => {
    expect(classifyReply(451, "451 4.3.0 try again later").outcome).toBe("deferred");
    expect(classifyReply(421, "421 4.4.2 closing").outcome).toBe("deferred");
  });

  it("bounces on 5yz", () => {
    expect(classifyReply(550, "550 5.1.1 no such user").outcome).toBe("bounced");
    expect(classifyReply(554, "554 5.7.1 relay denied").outcome).toBe("bounced");
  });

  it("defers on replies that are not final (1yz, 3yz) rather than guess", () => {
    expect(classifyReply(354, "354 go ahead").outcome).toBe("deferred");
  });

  it("uses the reply code of a nodemailer error when there is one", () => {
    expect(classifyError({ code: "EENVELOPE", responseCode: 550, response: "550 5.1.1 unknown" })).toEqual({
      outcome: "bounced",
      reply: "550 5.1.1 unknown",
    });
    expect(classifyError({ code: "EMESSAGE", responseCode: 452, response: "452 4.3.1 full" }).outcome).toBe("deferred");
  });

  it.each([
    [{ code: "ESOCKET", originalCode: "ECONNREFUSED" }, "4.4.1"],
    [{ code: "ECONNREFUSED" }, "4.4.1"],
    [{ code: "ETIMEDOUT" }, "4.4.1"],
    [{ code: "ECONNECTION" }, "4.4.2"],
    [{ code: "ECONNRESET" }, "4.4.2"],
    [{ code: "ESERVFAIL" }, "4.4.3"],
    [{ code: "ETIMEOUT" }, "4.4.3"],
  ])("defers on network error %o with RFC 3463 %s", (err, enhanced) => {
    const v = classifyError(err, "mx.example.test:25");
    expect(v.outcome).toBe("deferred");
    expect(v.reply.startsWith(enhanced)).toBe(true);
    expect(v.reply).toContain("mx.example.test:25");
  });

  it("defers on unknown errors (never bounces without a 5yz reply)", () => {
    const v = classifyError(new Error("something odd"));
    expect(v).toEqual({ outcome: "deferred", reply: "4.4.0 something odd" });
    expect(classifyError("weird").outcome).toBe("deferred");
  });
});
