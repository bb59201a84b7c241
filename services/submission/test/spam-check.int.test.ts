import type { SMTPServerSession } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE, rspamdTest, startBlackHole, startRspamd, type BlackHole, type PrivateRspamd } from "@correo/testkit";
import type { Logger } from "@correo/telemetry";
import { readHeaderSection, headerValue } from "../src/message-headers.js";
import { SpamCheck, type RspamdSettings } from "../src/smtp/spam-check.js";
import { formatReply } from "../src/smtp/replies.js";

// The MX's end-of-DATA spam step against a real rspamd (packages/testkit startRspamd).
let rspamd: PrivateRspamd;
let hole: BlackHole;
const logged: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
const log = {
  info: (obj: Record<string, unknown>, msg: string) => logged.push({ level: "info", obj, msg }),
  warn: (obj: Record<string, unknown>, msg: string) => logged.push({ level: "warn", obj, msg }),
} as unknown as Logger;

// What smtp-server hands the MX's onData for a session from another server.
const session = {
  id: "sess1",
  remoteAddress: "192.0.2.7",
  clientHostname: "[192.0.2.7]",
  hostNameAppearsAs: "mx.sender.example",
  envelope: { mailFrom: { address: "ana@sender.example", args: false }, rcptTo: [{ address: "bea@correo.example", args: false }] },
} as unknown as SMTPServerSession;

const message = (headers: string[], body: string) =>
  Buffer.from([...headers, "From: ana@sender.example", "To: bea@correo.example", "Subject: Hola", "", body, ""].join("\r\n"));
const settings = (over: Partial<RspamdSettings> = {}): RspamdSettings => ({
  rspamdUrl: rspamd.url,
  rspamdTimeout: 5000,
  rspamdFailClosed: false,
  rspamdPassword: undefined,
  ...over,
});
const headersOf = (raw: Buffer) => readHeaderSection(raw);

beforeAll(async () => {
  [rspamd, hole] = await Promise.all([startRspamd(), startBlackHole()]);
}, 90_000);
afterAll(async () => {
  await Promise.all([rspamd?.stop(), hole?.close()]);
});

describe("SpamCheck (the MX's end-of-DATA step)", () => {
  it("is off while RSPAMD_URL is unset", () => {
    expect(SpamCheck.fromConfig({ rspamdUrl: undefined, rspamdTimeout: 2000, rspamdFailClosed: false, rspamdPassword: undefined }, log)).toBeUndefined();
  });

  it("refuses GTUBE with 550 5.7.1", async () => {
    const check = SpamCheck.fromConfig(settings(), log)!;
    const r = await check.check(message([], GTUBE), session, "q-gtube");
    check.close();
    expect(r.verdict.verdict).toBe("reject");
    if (r.verdict.verdict === "reject") expect(formatReply(r.verdict.reply)).toBe("550 5.7.1 Message refused as spam");
    expect(r.action).toBe("reject");
  });

  it("defers greylist and soft reject with 451 4.7.1", async () => {
    const check = SpamCheck.fromConfig(settings(), log)!;
    for (const extra of [`${rspamdTest.score}: 5`, `${rspamdTest.action}: soft reject`]) {
      const r = await check.check(message([extra], "x"), session, "q-defer");
      expect(r.verdict.verdict === "defer" && formatReply(r.verdict.reply)).toBe("451 4.7.1 Message deferred by the spam filter, try again later");
    }
    check.close();
  });

  it("accepts a clean message with its score, and strips the X-Spam-* headers a sender forged", async () => {
    const check = SpamCheck.fromConfig(settings(), log)!;
    const r = await check.check(message(["X-Spam-Flag: NO", "X-Spam-Status: No, score=-100"], "Nos vemos el martes."), session, "q-clean");
    check.close();
    expect(r).toMatchObject({ junk: false, action: "no action", score: 0 });
    expect(r.verdict.verdict).toBe("accept");
    const h = headersOf(r.message);
    expect(h.fields.filter((f) => f.name.toLowerCase().startsWith("x-spam-"))).toEqual([
      { name: "X-Spam-Score", value: "0.00" },
      { name: "X-Spam-Status", value: "No, score=0.00 required=15.00" },
      { name: "X-Spam-Action", value: "no action" },
    ]);
    expect(r.message.toString()).toContain("\r\n\r\nNos vemos el martes.\r\n");
  });

  it("accepts add header into Junk with X-Spam-Flag: YES and rspamd's own header edits", async () => {
    const check = SpamCheck.fromConfig(settings(), log)!;
    const r = await check.check(message([`${rspamdTest.score}: 7`], "x"), session, "q-junk");
    check.close();
    expect(r).toMatchObject({ junk: true, action: "add header", score: 7 });
    const h = headersOf(r.message);
    expect(headerValue(h, "X-Spam-Flag")).toBe("YES");
    expect(headerValue(h, "X-Spam-Score")).toBe("7.00");
    expect(headerValue(h, "X-Spam-Status")).toBe("Yes, score=7.00 required=15.00");
    expect(headerValue(h, "X-Correo-Test-Scored")).toBe("7");
    expect(headerValue(h, rspamdTest.score)).toBeUndefined();
  });

  it("accepts rewrite subject into Junk with the Subject rspamd wrote, and only that Subject", async () => {
    const check = SpamCheck.fromConfig(settings(), log)!;
    const r = await check.check(message([`${rspamdTest.score}: 9`], "x"), session, "q-subject");
    check.close();
    expect(r).toMatchObject({ junk: true, action: "rewrite subject" });
    const subjects = headersOf(r.message).fields.filter((f) => f.name === "Subject");
    expect(subjects).toEqual([{ name: "Subject", value: `${rspamdTest.subjectPrefix} Hola` }]);
  });

  it("fails open on a black hole: accepts unscored, with a warning", async () => {
    const check = SpamCheck.fromConfig(settings({ rspamdUrl: `http://127.0.0.1:${hole.port}`, rspamdTimeout: 300 }), log)!;
    logged.length = 0;
    const r = await check.check(message(["X-Spam-Flag: NO"], "x"), session, "q-open");
    check.close();
    expect(r).toMatchObject({ verdict: { verdict: "accept" }, junk: false, action: "unchecked" });
    expect(headerValue(headersOf(r.message), "X-Spam-Flag")).toBeUndefined();
    expect(logged).toEqual([
      expect.objectContaining({ level: "warn", msg: "rspamd gave no usable answer: message accepted unscored", obj: expect.objectContaining({ reason: "timeout", messageId: "q-open" }) }),
    ]);
  });

  it("fails closed on a black hole when RSPAMD_FAIL_CLOSED is set: 451 4.7.1", async () => {
    const check = SpamCheck.fromConfig(settings({ rspamdUrl: `http://127.0.0.1:${hole.port}`, rspamdTimeout: 300, rspamdFailClosed: true }), log)!;
    const r = await check.check(message([], "x"), session, "q-closed");
    check.close();
    expect(r.verdict.verdict === "defer" && formatReply(r.verdict.reply)).toBe("451 4.7.1 Spam check unavailable, try again later");
  });
});
