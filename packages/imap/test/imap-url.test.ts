/** IMAP URLs (RFC 5092 §3, RFC 4467 §3) as CATENATE and URLAUTH read them: table tests. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseImapUrl } from "../src/syntax/imap-url.js";

describe("parseImapUrl", () => {
  it.each([
    ["a relative URL to a message", "/INBOX/;UID=20", { mailbox: "INBOX", uid: 20 }],
    ["keys in any case, UIDVALIDITY and a section", "/Drafts;uidvalidity=385759045/;uid=20/;section=1.2", { mailbox: "Drafts", uidValidity: 385759045, uid: 20, section: "1.2" }],
    ["a %-encoded UTF-8 name with a hierarchy and a section with spaces", "/a%2Fb/caf%C3%A9/;UID=3/;SECTION=HEADER.FIELDS%20(TO%20FROM)", { mailbox: "a/b/café", uid: 3, section: "HEADER.FIELDS (TO FROM)" }],
    ["a partial range, with and without a length", "/x/;uid=1/;partial=100000.1", { partial: [100000, 1] }],
    ["a partial range from an origin to the end", "/x/;uid=1/;section=TEXT/;partial=5", { section: "TEXT", partial: [5, undefined] }],
    ["an absolute URL with its user and server", "imap://fred@example.com:143/INBOX/;uid=7", { user: "fred", host: "example.com", mailbox: "INBOX", uid: 7 }],
  ])("reads %s", (_what, url, parts) => {
    expect(parseImapUrl(url)).toMatchObject(parts);
  });

  it("reads a URLAUTH URL: expiry, access, and the rump before :mechanism:token (RFC 4467 §2.2)", () => {
    const token = "91354a473744909de610943775f92038";
    const rump = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;expire=2030-04-16T10:00:00Z;urlauth=submit+fred";
    expect(parseImapUrl(`${rump}:internal:${token}`)).toMatchObject({ access: "submit+fred", mechanism: "INTERNAL", token, rump, uid: 20, section: "1.2" });
    expect((parseImapUrl(`${rump}:internal:${token}`) as { expire: Date }).expire.toISOString()).toBe("2030-04-16T10:00:00.000Z");
    expect(parseImapUrl("imap://joe@h/INBOX/;uid=1;urlauth=authuser")).toMatchObject({ access: "authuser", rump: "imap://joe@h/INBOX/;uid=1;urlauth=authuser" });
  });

  it.each([
    ["no UID", "/INBOX", /one message/],
    ["a zero UID", "/INBOX/;uid=0", /one message/],
    ["another scheme", "http://example.com/INBOX/;uid=1", /not an IMAP URL/],
    ["a bad %-escape", "/IN%ZZBOX/;uid=1", /%-escape/],
    ["an unknown access identifier", "/INBOX/;uid=1;urlauth=everyone", /one message/],
    ["an expiry that is no date", "/INBOX/;uid=1;expire=tomorrow;urlauth=anonymous", /EXPIRE/],
  ])("refuses %s with the reason", (_what, url, reason) => {
    const r = parseImapUrl(url);
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error).toMatch(reason);
  });
});

describe("parseImapUrl, property-based", () => {
  it("reads back any mailbox name, UID and section it is given, %-encoded", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.constantFrom("1", "1.2.HEADER", "TEXT", "HEADER.FIELDS (TO CC)"), (name, uid, section) => {
        const url = `/${encodeURIComponent(name)}/;UID=${uid}/;SECTION=${encodeURIComponent(section)}`;
        expect(parseImapUrl(url)).toMatchObject({ mailbox: name, uid, section });
      }),
    );
  });

  it("never throws: any string is a URL or a reason", () => {
    fc.assert(fc.property(fc.string(), (s) => void parseImapUrl(s)));
    fc.assert(fc.property(fc.string(), (s) => void parseImapUrl(`imap://u@h/${s}`)));
  });
});
