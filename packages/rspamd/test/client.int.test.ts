import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, GTUBE, rspamdTest, startBlackHole, startRspamd, type BlackHole, type PrivateRspamd } from "@correo/testkit";
import { checkMessage, decideSpam, RspamdClient, type CheckEnvelope, type CheckResult, type RspamdAnswer } from "../src/index.js";

// The client against a real rspamd (Debian's, a private instance: packages/testkit startRspamd).
let rspamd: PrivateRspamd;
let client: RspamdClient;
const envelope: CheckEnvelope = {
  ip: "192.0.2.7",
  helo: "mx.sender.example",
  hostname: "mx.sender.example",
  from: "ana@sender.example",
  rcpt: ["bea@correo.example", "carl@correo.example"],
  queueId: "4f1c-queue-id",
};
const message = (extraHeaders: string[], body: string, subject = "Hola") =>
  Buffer.from(
    [
      "From: Ana <ana@sender.example>",
      "To: bea@correo.example",
      `Subject: ${subject}`,
      "Message-ID: <1@sender.example>",
      "Date: Wed, 2 Dec 2026 10:00:00 +0000",
      ...extraHeaders,
      "",
      body,
      "",
    ].join("\r\n"),
  );

function answered(result: CheckResult): RspamdAnswer {
  if (result.outcome !== "answer") throw new Error(`expected an answer, got ${JSON.stringify(result)}\n${rspamd.log().slice(-2000)}`);
  return result.answer;
}

beforeAll(async () => {
  rspamd = await startRspamd();
  client = new RspamdClient({ url: rspamd.url, timeoutMs: 5000 });
}, 90_000);
afterAll(async () => {
  client?.close();
  await rspamd?.stop();
});

describe("rspamd /checkv2 against a real rspamd", () => {
  it("answers reject for GTUBE, and decideSpam refuses it", async () => {
    const answer = answered(await client.check(envelope, message([], `This is the GTUBE:\r\n${GTUBE}`)));
    expect(answer.action).toBe("reject");
    expect(answer.symbols.map((s) => s.name)).toContain("GTUBE");
    expect(decideSpam(answer, { failClosed: false }).outcome).toBe("reject");
  });

  it("answers no action for a clean message, and decideSpam accepts it with its score", async () => {
    const answer = answered(await client.check(envelope, message([], "Nos vemos el martes.")));
    expect(answer).toMatchObject({ action: "no action", score: 0, requiredScore: rspamdTest.thresholds.reject });
    expect(decideSpam(answer, { failClosed: false })).toMatchObject({ outcome: "accept", action: "no action" });
  });

  it("receives the envelope: client address, HELO, host name, sender, each recipient and the queue id", async () => {
    const answer = answered(await client.check({ ...envelope, user: "ana@sender.example" }, message([], "hello")));
    const seen = answer.symbols.find((s) => s.name === "CORREO_TEST_ENVELOPE")?.options;
    expect(seen).toEqual([
      "ip=192.0.2.7",
      "helo=mx.sender.example",
      "hostname=mx.sender.example",
      "from=ana@sender.example",
      "rcpt=bea@correo.example",
      "rcpt=carl@correo.example",
      "user=ana@sender.example",
      "queue-id=4f1c-queue-id",
    ]);
  });

  it.each([
    [5, "greylist", "defer"],
    [7, "add header", "junk"],
    [9, "rewrite subject", "junk"],
    [20, "reject", "reject"],
  ] as const)("scores %d as %s → %s", async (score, action, outcome) => {
    const answer = answered(await client.check(envelope, message([`${rspamdTest.score}: ${score}`], "x")));
    expect(answer).toMatchObject({ action, score });
    expect(decideSpam(answer, { failClosed: false }).outcome).toBe(outcome);
  });

  it("answers soft reject when a rule sets it, and decideSpam defers", async () => {
    const answer = answered(await client.check(envelope, message([`${rspamdTest.action}: soft reject`], "x")));
    expect(answer.action).toBe("soft reject");
    expect(decideSpam(answer, { failClosed: false }).outcome).toBe("defer");
  });

  it("gives the rewritten subject and rspamd's milter header edits for rewrite subject", async () => {
    const answer = answered(await client.check(envelope, message([`${rspamdTest.score}: 9`], "x", "Oferta")));
    expect(answer.subject).toBe(`${rspamdTest.subjectPrefix} Oferta`);
    expect(answer.addHeaders).toEqual([{ name: "X-Correo-Test-Scored", value: "9" }]);
    expect(answer.removeHeaders).toEqual([rspamdTest.score]);
    const decision = decideSpam(answer, { failClosed: false });
    expect(decision).toMatchObject({ outcome: "junk", action: "rewrite subject" });
    if (decision.outcome === "junk") expect(decision.addHeaders).toContainEqual({ name: "Subject", value: `${rspamdTest.subjectPrefix} Oferta` });
  });
});

describe("rspamd that does not answer", () => {
  let hole: BlackHole;
  beforeAll(async () => (hole = await startBlackHole()));
  afterAll(async () => hole?.close());

  it("times out on a port that accepts and never answers: fail open accepts, fail closed defers", async () => {
    const started = Date.now();
    const result = await checkMessage({ url: `http://127.0.0.1:${hole.port}`, timeoutMs: 300 }, envelope, message([], "x"));
    expect(result.outcome).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(hole.connections()).toBe(1);
    expect(decideSpam("timeout", { failClosed: false })).toMatchObject({ outcome: "accept", action: "unchecked" });
    expect(decideSpam("timeout", { failClosed: true })).toMatchObject({ outcome: "defer", action: "unchecked" });
  });

  it("reports a refused connection as an error, not a timeout", async () => {
    const port = await freePort();
    const result = await checkMessage({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 }, envelope, message([], "x"));
    expect(result).toMatchObject({ outcome: "error", reason: "connect", detail: "ECONNREFUSED" });
  });
});

describe("an HTTP server that is not rspamd", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = createServer((req, res) => {
      req.resume();
      if (req.url === "/proxy/checkv2") return res.writeHead(200, { "Content-Type": "application/json" }).end('{"action":"reject","score":30,"required_score":15}');
      if (req.url === "/html/checkv2") return res.writeHead(200).end("<html>hello</html>");
      res.writeHead(500).end("internal error");
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it("reports a non-200 status and an unreadable answer precisely", async () => {
    expect(await checkMessage({ url: `http://127.0.0.1:${port}`, timeoutMs: 2000 }, envelope, message([], "x"))).toMatchObject({
      outcome: "error",
      reason: "status",
      detail: "HTTP 500: internal error",
    });
    expect(await checkMessage({ url: `http://127.0.0.1:${port}/html/`, timeoutMs: 2000 }, envelope, message([], "x"))).toMatchObject({
      outcome: "error",
      reason: "answer",
      detail: "answer is not JSON: '<html>hello</html>'",
    });
  });

  it("keeps the path of RSPAMD_URL (rspamd behind a reverse proxy)", async () => {
    const result = await checkMessage({ url: `http://127.0.0.1:${port}/proxy`, timeoutMs: 2000 }, envelope, message([], "x"));
    expect(result).toMatchObject({ outcome: "answer", answer: { action: "reject", score: 30 } });
  });
});
