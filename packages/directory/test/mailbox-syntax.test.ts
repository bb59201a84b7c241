import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseHeaderMailbox, parseMailbox } from "../src/index.js";

/**
 * The address vectors of the isemail project (Dominic Sayers' test suite), written
 * here as a table of our own: the address, and what it is.
 * - `valid`: an RFC 5321 Mailbox, ordinary;
 * - `rfc5321`: an RFC 5321 Mailbox with unusual parts (a quoted local part, an address
 *   literal, a single-label or numeric top-level domain): valid, whatever policy says;
 * - `cfws`: an RFC 5322 addr-spec with comments or folding white space at its edges:
 *   not an envelope address, but a header (HTTP) field may write one that way;
 * - `deprecated`: RFC 5322 obsolete syntax (CFWS between the dots or around the @,
 *   quoted-pairs of controls): refused, since reading it would rewrite the address;
 * - `rfc5322`: valid only by RFC 5322's broad grammar (too long, unregistered or
 *   malformed address literals, non-DNS domains): refused;
 * - `error`: no address at all.
 */
type Category = "valid" | "rfc5321" | "cfws" | "deprecated" | "rfc5322" | "error";

const a64 = "a".repeat(64);
const label63 = "b".repeat(63);
/** 64 + 1 + 189 = 254 octets: the longest mailbox (a 256-octet path with its brackets). */
const longest = `${a64}@${label63}.${label63}.${"c".repeat(61)}`;
const tooLong = `${a64}@${label63}.${label63}.${"c".repeat(62)}`;
const longDomain = `${label63}.${label63}.${label63}.${"d".repeat(63)}`; // 255 octets
const v6 = (s: string) => `test@[IPv6:${s}]`;

const vectors: [string, Category][] = [
  // Plain addresses
  ["test@iana.org", "valid"],
  ["test@nominet.org.uk", "valid"],
  ["test@about.museum", "valid"],
  ["a@iana.org", "valid"],
  ["test@e.com", "valid"],
  ["test@iana.a", "valid"],
  ["test.test@iana.org", "valid"],
  ["!#$%&`*+/=?^`{|}~@iana.org", "valid"],
  ["'@iana.org", "valid"],
  ["123@iana.org", "valid"],
  ["test@123.com", "valid"],
  ["test@mason-dixon.com", "valid"],
  ["test@g--a.com", "valid"],
  ["xn--test@iana.org", "valid"],
  ["test@xn--hxajbheg2az3al.xn--jxalpdlp", "valid"],
  [`${a64}@iana.org`, "valid"],
  [`test@${label63}.com`, "valid"],
  [longest, "valid"],
  ["a+b-c_d@sub.iana.org", "valid"],
  // Valid for SMTP, unusual
  ["test@io", "rfc5321"],
  ["test@localhost", "rfc5321"],
  ["test@iana.123", "rfc5321"],
  ["test@255.255.255.255", "rfc5321"],
  ['"test"@iana.org', "rfc5321"],
  ['""@iana.org', "rfc5321"],
  ['"\\a"@iana.org', "rfc5321"],
  ['"\\""@iana.org', "rfc5321"],
  ['"\\\\"@iana.org', "rfc5321"],
  ['"test\\ test"@iana.org', "rfc5321"],
  ['"test test"@iana.org', "rfc5321"],
  ['"test.test"@iana.org', "rfc5321"],
  ['"test@test"@iana.org', "rfc5321"],
  ['"a%b"@iana.org', "rfc5321"],
  ['"(comment)"@iana.org', "rfc5321"],
  ["test@[255.255.255.255]", "rfc5321"],
  ["test@[0.0.0.0]", "rfc5321"],
  [v6("1111:2222:3333:4444:5555:6666:7777:8888"), "rfc5321"],
  [v6("1111:2222:3333:4444:5555::8888"), "rfc5321"],
  [v6("::3333:4444:5555:6666:7777:8888"), "rfc5321"],
  [v6("1111::"), "rfc5321"],
  [v6("::"), "rfc5321"],
  [v6("1111:2222:3333:4444:5555:6666:255.255.255.255"), "rfc5321"],
  [v6("1111:2222:3333:4444::255.255.255.255"), "rfc5321"],
  [v6("::255.255.255.255"), "rfc5321"],
  ["test@[ipv6:1111::8888]", "rfc5321"],
  // Comments and folding white space at the edges: header forms only
  [" test@iana.org", "cfws"],
  ["test@iana.org ", "cfws"],
  ["\ttest@iana.org", "cfws"],
  ["(comment)test@iana.org", "cfws"],
  ["(comment(nested))test@iana.org", "cfws"],
  ["(comment\\)still)test@iana.org", "cfws"],
  ["test@iana.org(comment)", "cfws"],
  ["test@iana.org (comment) ", "cfws"],
  ["\r\n test@iana.org", "cfws"],
  ["test@iana.org\r\n ", "cfws"],
  // Obsolete syntax: refused, never read as another address
  ["test . test@iana.org", "deprecated"],
  ["test. test@iana.org", "deprecated"],
  ["test .test@iana.org", "deprecated"],
  ["test.(comment)test@iana.org", "deprecated"],
  ["test(comment)@iana.org", "deprecated"],
  ["test @iana.org", "deprecated"],
  ["test@ iana.org", "deprecated"],
  ["test@(comment)iana.org", "deprecated"],
  ["test@iana .org", "deprecated"],
  ["test@iana. org", "deprecated"],
  ["test@iana.(comment)org", "deprecated"],
  ['"test"."test"@iana.org', "deprecated"],
  ['"test".test@iana.org', "deprecated"],
  ['test."test"@iana.org', "deprecated"],
  ['"test\\\u0000"@iana.org', "deprecated"],
  ['"test\\\u007f"@iana.org', "deprecated"],
  ['"test\r\n test"@iana.org', "deprecated"],
  ["\r\n \r\n test@iana.org", "deprecated"],
  ["test@iana.org \r\n \r\n ", "deprecated"],
  // Valid only by RFC 5322's broad grammar
  [`${a64}a@iana.org`, "rfc5322"],
  [`${"é".repeat(33)}@iana.org`, "rfc5322"],
  [`test@${label63}b.com`, "rfc5322"],
  [tooLong, "rfc5322"],
  [`a@${longDomain}`, "rfc5322"],
  [`a@${longDomain}x`, "rfc5322"],
  ["test@[1111:2222:3333:4444:5555:6666:7777:8888]", "rfc5322"],
  ["test@[RFC-5322-domain-literal]", "rfc5322"],
  ["test@[RFC-5322-\\a-domain-literal]", "rfc5322"],
  ["test@[255.255.255]", "rfc5322"],
  ["test@[255.255.255.255.255]", "rfc5322"],
  ["test@[255.255.255.256]", "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:7777"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:7777:8888:9999"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:7777:888G"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666::8888"), "rfc5322"],
  [v6("1111::4444:5555::8888"), "rfc5322"],
  [v6(":3333:4444:5555:6666:7777:8888"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:7777:"), "rfc5322"],
  [v6(":::"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:255.255.255.255"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:7777:255.255.255.255"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666::255.255.255.255"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555::255.255.255.255"), "rfc5322"],
  [v6("1111:2222:3333:4444:5555:6666:255.255.255"), "rfc5322"],
  ["test@iana/icann.org", "rfc5322"],
  ["test@iana_icann.org", "rfc5322"],
  ["test@-iana.org", "rfc5322"],
  ["test@iana-.com", "rfc5322"],
  ["test@iana.org-", "rfc5322"],
  // Not an address
  ["", "error"],
  ["test", "error"],
  ["@", "error"],
  ["test@", "error"],
  ["@io", "error"],
  ["@iana.org", "error"],
  [".test@iana.org", "error"],
  ["test.@iana.org", "error"],
  ["test..iana.org", "error"],
  ["test..test@iana.org", "error"],
  ["test_exa-mple.com", "error"],
  ["test\\@test@iana.org", "error"],
  ["test@test@iana.org", "error"],
  ["test test@iana.org", "error"],
  ['test"@iana.org', "error"],
  ['"test@iana.org', "error"],
  ['"test"test@iana.org', "error"],
  ['test"text"@iana.org', "error"],
  ['"test""test"@iana.org', "error"],
  ['"""@iana.org', "error"],
  ['"\\"@iana.org', "error"],
  ['"test\u0000"@iana.org', "error"],
  ["test\u0000@iana.org", "error"],
  ["test@iana\u0000.org", "error"],
  ["\u007f@iana.org", "error"],
  ["test@\u007f.org", "error"],
  ['"\u007f"@iana.org', "error"],
  ["\u0085@iana.org", "error"],
  ["test@.iana.org", "error"],
  ["test@iana.org.", "error"],
  ["test@iana..com", "error"],
  ["test@a[255.255.255.255]", "error"],
  ["test@[255.255.255.255", "error"],
  ["test@[255.255.255.255]x", "error"],
  ["(test@iana.org", "error"],
  ["((comment)test@iana.org", "error"],
  ["test@iana.org(", "error"],
  ["test@iana.org)", "error"],
  ["\r\ntest@iana.org", "error"],
  ["\ntest@iana.org", "error"],
  ["test@iana.org\r", "error"],
  ["test@iana.org \r\n", "error"],
  ["test@iana.org,", "error"],
  ["test@iana.org, other@iana.org", "error"],
  ["<test@iana.org", "error"],
  ["test@iana.org>", "error"],
  ["\ud800@iana.org", "error"],
];

const mailboxValid = (c: Category) => c === "valid" || c === "rfc5321";
const headerValid = (c: Category) => mailboxValid(c) || c === "cfws";

describe("RFC 5321 Mailbox syntax: the isemail vectors", () => {
  it.each(vectors.map(([address, category]) => [JSON.stringify(address), category, address] as const))(
    "%s is %s",
    (_shown, category, address) => {
      const syntax = parseMailbox(address);
      expect(syntax.ok, syntax.ok ? "accepted" : syntax.reason).toBe(mailboxValid(category));
      // Never rewritten: what is accepted is exactly what was given.
      if (syntax.ok) expect(syntax.mailbox.address).toBe(address);
    },
  );

  it.each(vectors.map(([address, category]) => [JSON.stringify(address), category, address] as const))(
    "%s (%s) as an HTTP/header field",
    (_shown, category, address) => {
      const syntax = parseHeaderMailbox(address);
      expect(syntax.ok, syntax.ok ? "accepted" : syntax.reason).toBe(headerValid(category));
      // CFWS around the addr-spec is not part of the address; nothing else is dropped.
      if (syntax.ok) expect(syntax.value.mailbox.address).toBe(address.replace(/^(\s|\([^@]*\))+|(\s|\(.*\))+$/g, ""));
    },
  );
});

describe("parseMailbox", () => {
  it("takes the parts as written and tells quoted local parts and address literals apart", () => {
    expect(parseMailbox('"a b"@Example.TEST')).toMatchObject({
      ok: true,
      mailbox: { localPart: '"a b"', domain: "Example.TEST", quoted: true, literal: undefined, utf8: false },
    });
    expect(parseMailbox("x@[192.0.2.1]")).toMatchObject({ ok: true, mailbox: { quoted: false, literal: "ipv4" } });
    expect(parseMailbox("x@[IPv6:2001:db8::1]")).toMatchObject({ ok: true, mailbox: { literal: "ipv6" } });
  });

  it("says why an address is refused, citing the limit", () => {
    expect(parseMailbox(`${a64}a@iana.org`)).toEqual({ ok: false, reason: "has a local part of 65 octets; the limit is 64 (RFC 5321 §4.5.3.1.1)" });
    expect(parseMailbox(tooLong)).toMatchObject({ ok: false, reason: expect.stringContaining("255 octets long; the limit is 254") });
    expect(parseMailbox("test@iana.org.")).toEqual({ ok: false, reason: "has a domain that ends with a dot" });
  });

  it("allows UTF-8 (RFC 6531) unless told not to, and then says SMTPUTF8 is missing", () => {
    for (const a of ["Σωκράτης@example.test", "josé@correo.españa.test", '"ü x"@example.test']) {
      expect(parseMailbox(a).ok, a).toBe(true);
      expect(parseMailbox(a, { utf8: false })).toMatchObject({ ok: false, utf8: true });
    }
    expect(parseMailbox("test@xn--espaa-rta.test", { utf8: false }).ok).toBe(true);
    expect(parseMailbox("a@bad\u00ad\u0301label.test").ok).toBe(false);
  });

  it("never throws, and accepts only what it returns unchanged (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
        const r = parseMailbox(s);
        if (r.ok) expect(r.mailbox.address).toBe(s);
        void parseHeaderMailbox(s);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("parseHeaderMailbox", () => {
  it("reads back any valid mailbox exactly, bare, in angle brackets or beside a display name (property)", () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]{1,8}$/);
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/);
    const mailbox = fc.tuple(fc.array(atom, { minLength: 1, maxLength: 4 }), fc.array(label, { minLength: 1, maxLength: 4 })).map(([l, d]) => `${l.join(".")}@${d.join(".")}`);
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z .]{0,15}$/);
    fc.assert(
      fc.property(mailbox, name, (m, n) => {
        expect(parseMailbox(m)).toMatchObject({ ok: true, mailbox: { address: m } });
        for (const text of [m, ` ${m} `, `<${m}>`, `${n} <${m}>`, `"${n}" <${m}> (c)`]) {
          expect(parseHeaderMailbox(text), text).toMatchObject({ ok: true, value: { mailbox: { address: m } } });
        }
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ["Ana Pérez <ana@example.test>", "Ana Pérez", "ana@example.test"],
    ['"Pérez, Ana" <ana@example.test>', "Pérez, Ana", "ana@example.test"],
    ['"say \\"hi\\"" <ana@example.test>', 'say "hi"', "ana@example.test"],
    ["John Q. Public <jq@example.test>", "John Q. Public", "jq@example.test"],
    ["<ana@example.test>", "", "ana@example.test"],
    ["  <ana@example.test>  ", "", "ana@example.test"],
    ["Ana (the boss) <ana@example.test> (work)", "Ana", "ana@example.test"],
    ["=?utf-8?q?Ana?= <ana@example.test>", "=?utf-8?q?Ana?=", "ana@example.test"],
    ["Ana <test@io>", "Ana", "test@io"],
  ])("reads %s", (text, name, address) => {
    expect(parseHeaderMailbox(text)).toMatchObject({ ok: true, value: { displayName: name, mailbox: { address } } });
  });

  it.each([
    ["Ana <ana@example.test", "has an unclosed <"],
    ["Ana <ana @example.test>", "has white space or a comment inside <…>"],
    ["Ana <test . test@example.test>", "has white space or a comment inside <…>"],
    ["Ana <ana@example.test> bob", 'has "bob" after the address'],
    ["ana@x.test <ana@example.test>", 'has "@" in the display name, where it is allowed only inside quotes'],
    ["Ana, Bob <ana@example.test>", 'has "," in the display name, where it is allowed only inside quotes'],
    ['"Ana <ana@example.test>', "has an unclosed quote in the local part"],
    ["Ana <>", "has nothing between < and >"],
    ["Ana <test@iana.org.>", "has a domain that ends with a dot"],
  ])("refuses %s: %s", (text, reason) => {
    expect(parseHeaderMailbox(text)).toEqual({ ok: false, reason });
  });
});
