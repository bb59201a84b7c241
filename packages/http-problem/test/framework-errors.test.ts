import { describe, expect, it } from "vitest";
import Fastify from "fastify";
import { frameworkProblems, useProblemErrors } from "../src/index.js";

describe("frameworkProblems", () => {
  it("answers a URL whose percent-encoding is not UTF-8 with a 400 problem naming the URL", async () => {
    const app = Fastify({ frameworkErrors: frameworkProblems });
    useProblemErrors(app, { title: "Internal Server Error", status: 500 });
    app.get("/v1/things/:id", async () => ({ ok: true }));
    const res = await app.inject({ method: "GET", url: "/v1/things/%FF" });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ title: "Invalid request", status: 400, errors: [{ field: "url", message: expect.stringMatching(/not a valid URL/) }] });
    await app.close();
  });
});
