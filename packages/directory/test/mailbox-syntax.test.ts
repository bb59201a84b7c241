import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseHeaderMailbox, parseMailbox } from "../src/index.js";
import { a64, headerValid, mailboxValid, tooLong, vectors } from "./isemail-vectors.js";


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
