import { describe, expect, it } from "vitest";
import { parseAnswer, requestHeaders } from "../src/index.js";

describe("parseAnswer: rspamd's /checkv2 JSON", () => {
  it("reads action, scores, symbols, subject and milter edits", () => {
    const body = JSON.stringify({
      is_skipped: false,
      score: 9,
      required_score: 15,
      action: "rewrite subject",
      subject: "***SPAM*** hello",
      symbols: { CORREO_TEST_SCORE: { name: "CORREO_TEST_SCORE", score: 9, metric_score: 1, options: ["asked for 9"] } },
      milter: { add_headers: { "X-A": "1", "X-B": { value: "2", order: 0 }, "X-C": ["3", { value: "4" }] }, remove_headers: { "X-Old": 0 } },
    });
    expect(parseAnswer(body)).toEqual({
      ok: true,
      answer: {
        action: "rewrite subject",
        score: 9,
        requiredScore: 15,
        subject: "***SPAM*** hello",
        symbols: [{ name: "CORREO_TEST_SCORE", score: 9, options: ["asked for 9"] }],
        addHeaders: [
          { name: "X-A", value: "1" },
          { name: "X-B", value: "2" },
          { name: "X-C", value: "3" },
          { name: "X-C", value: "4" },
        ],
        removeHeaders: ["X-Old"],
        skipped: false,
      },
    });
  });

  it.each([
    ["not json", /not JSON/],
    ["[1]", /not a JSON object/],
    ['{"error":"bad request"}', /rspamd reported an error: bad request/],
    ['{"action":"discard","score":1,"required_score":15}', /no known action, got "discard"/],
    ['{"action":"reject","score":"high","required_score":15}', /score is not a number/],
    ['{"action":"reject","score":1}', /required_score is not a number/],
    ['{"action":"reject","score":1,"required_score":15,"milter":{"add_headers":{"X":1}}}', /milter.add_headers.X is neither/],
    ['{"action":"reject","score":1,"required_score":15,"subject":3}', /subject is not a string/],
  ])("refuses %s with a precise problem", (body, problem) => {
    const parsed = parseAnswer(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});

describe("requestHeaders: the envelope as rspamd's protocol headers", () => {
  it("sends one Rcpt line per recipient, <> for the null sender, and only what is known", () => {
    expect(requestHeaders({ ip: "192.0.2.1", helo: "mx.example.org", from: "", rcpt: ["a@example.com", "b@example.com"], queueId: "q1" }, "secret")).toEqual({
      IP: "192.0.2.1",
      Helo: "mx.example.org",
      From: "<>",
      Rcpt: ["a@example.com", "b@example.com"],
      "Queue-Id": "q1",
      Password: "secret",
    });
  });

  it("never lets a CR or LF of a client's HELO split a request header", () => {
    expect(requestHeaders({ helo: "x\r\nUser: admin", from: "a@b.c", rcpt: [] }).Helo).toBe("x User: admin");
  });
});
