/** URLAUTH decisions (RFC 4467 §3, §7.2): who may fetch an authorized URL, and the INTERNAL token. */
import { describe, expect, it } from "vitest";
import { parseImapUrl, type ImapUrl } from "../src/syntax/imap-url.js";
import { internalToken, tokenMatches, urlauthVerdict } from "../src/urlauth.js";

const now = new Date("2026-12-02T12:00:00Z");
const url = (text: string) => parseImapUrl(text) as ImapUrl;
const token = "a".repeat(64);

describe("urlauthVerdict", () => {
  it.each([
    ["anonymous admits anyone", "anonymous", "eve@x.test", true],
    ["authuser admits any user of the server", "authuser", "eve@x.test", true],
    ["user+name admits that user, in any case", "user+Fred@imap.test", "fred@IMAP.test", true],
    ["user+name refuses everybody else, the owner too", "user+fred@imap.test", "joe@imap.test", false],
    ["submit+name is for a submission server only", "submit+joe@imap.test", "joe@imap.test", false],
  ])("%s", (_why, access, requester, allow) => {
    expect(urlauthVerdict(url(`imap://joe@imap.test/INBOX/;uid=1;urlauth=${access}:INTERNAL:${token}`), requester, now).allow).toBe(allow);
  });

  it("names the owner: the URL's user, at the URL's host when it is a local part", () => {
    expect(urlauthVerdict(url(`imap://joe@imap.test/INBOX/;uid=1;urlauth=anonymous:internal:${token}`), "x", now)).toEqual({ allow: true, owner: "joe@imap.test" });
    expect(urlauthVerdict(url(`imap://joe%40imap.test@mail.imap.test/INBOX/;uid=1;urlauth=anonymous:internal:${token}`), "x", now)).toEqual({ allow: true, owner: "joe@imap.test" });
  });

  it.each([
    ["a relative URL", `/INBOX/;uid=1;urlauth=anonymous:INTERNAL:${token}`, /absolute/],
    ["a rump without a token", "imap://joe@h/INBOX/;uid=1;urlauth=anonymous", /no ;URLAUTH/],
    ["an unknown mechanism", `imap://joe@h/INBOX/;uid=1;urlauth=anonymous:XSHA1:${token}`, /XSHA1/],
    ["an expired URL", `imap://joe@h/INBOX/;uid=1;expire=2026-12-02T11:59:59Z;urlauth=anonymous:INTERNAL:${token}`, /expired/],
  ])("refuses %s", (_what, text, why) => {
    const v = urlauthVerdict(url(text), "joe@h", now);
    expect(v.allow).toBe(false);
    expect((v as { why: string }).why).toMatch(why);
  });
});

describe("the INTERNAL token", () => {
  const key = Buffer.alloc(32, 7);
  const rump = "imap://joe@imap.test/INBOX/;uid=1;urlauth=authuser";

  it("is the HMAC-SHA256 of the rump URL with the mailbox key, in hex", () => {
    expect(internalToken(key, rump)).toMatch(/^[0-9a-f]{64}$/);
    expect(internalToken(key, rump)).not.toBe(internalToken(Buffer.alloc(32, 8), rump));
  });

  it("matches only the rump it was made for, with that key", () => {
    const t = internalToken(key, rump);
    expect(tokenMatches(key, url(`${rump}:INTERNAL:${t}`))).toBe(true);
    expect(tokenMatches(key, url(`${rump}:INTERNAL:${t.toUpperCase()}`))).toBe(true);
    expect(tokenMatches(key, url(`${rump.replace("uid=1", "uid=2")}:INTERNAL:${t}`))).toBe(false);
    expect(tokenMatches(Buffer.alloc(32, 9), url(`${rump}:INTERNAL:${t}`))).toBe(false);
  });
});
