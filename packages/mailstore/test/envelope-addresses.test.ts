import { describe, expect, it } from "vitest";
import { describeMessage } from "../src/index.js";

const envelopeOf = (...header: string[]) => describeMessage(Buffer.from([...header, "", "body", ""].join("\r\n"))).envelope;

describe("ENVELOPE address lists (RFC 3501 §7.4.2, RFC 5322 §3.4)", () => {
  it("gives an empty group only its start and end markers, never an address for a bare comment", () => {
    expect(envelopeOf("From: a@example.org", "Cc: group: ;, group2: (foo) ;").cc).toEqual([
      { name: null, adl: null, mailbox: "group", host: null },
      { name: null, adl: null, mailbox: null, host: null },
      { name: null, adl: null, mailbox: "group2", host: null },
      { name: null, adl: null, mailbox: null, host: null },
    ]);
  });

  it("lists a group's members between its markers", () => {
    expect(envelopeOf("To: team: uno@d1.org, dos@d2.org;, solo@d3.org").to).toEqual([
      { name: null, adl: null, mailbox: "team", host: null },
      { name: null, adl: null, mailbox: "uno", host: "d1.org" },
      { name: null, adl: null, mailbox: "dos", host: "d2.org" },
      { name: null, adl: null, mailbox: null, host: null },
      { name: null, adl: null, mailbox: "solo", host: "d3.org" },
    ]);
  });

  it("keeps an obsolete source route as the address's at-domain-list (RFC 5322 §4.4), as Dovecot does", () => {
    const e = envelopeOf("From: <@route:user@domain>", "To: Ana <@r1, @r2:ana@example.org>, bob@example.org");
    expect(e.from).toEqual([{ name: null, adl: "@route", mailbox: "user", host: "domain" }]);
    expect(e.to).toEqual([
      { name: "Ana", adl: "@r1,@r2", mailbox: "ana", host: "example.org" },
      { name: null, adl: null, mailbox: "bob", host: "example.org" },
    ]);
  });

  it("takes comments out of an addr-spec", () => {
    const [from] = envelopeOf("From: <user-from (comment)@ (comment) domain.org>").from!;
    expect([from!.mailbox, from!.host]).toEqual(["user-from", "domain.org"]);
  });

  it("reads a lone local part (no domain) as a mailbox with an empty host, as Dovecot does", () => {
    expect(envelopeOf("From: d").from).toEqual([{ name: null, adl: null, mailbox: "d", host: "" }]);
    expect(envelopeOf("To: d, e@f.g").to).toEqual([
      { name: null, adl: null, mailbox: "d", host: "" },
      { name: null, adl: null, mailbox: "e", host: "f.g" },
    ]);
    // A display name with an address is no lone local part.
    expect(envelopeOf("From: Ana <ana@example.org>").from).toEqual([{ name: "Ana", adl: null, mailbox: "ana", host: "example.org" }]);
  });

  it("has no address list for a field of comments only", () => {
    expect(envelopeOf("From: a@example.org", "Cc: (nobody)").cc).toBeNull();
  });
});

describe("comments in and after an angle-addr", () => {
  it("names no one by the comments inside <…>, but by a comment after a bare addr-spec", () => {
    expect(envelopeOf("From: <user-from (comment)@ (comment) domain.org>").from).toEqual([{ name: null, adl: null, mailbox: "user-from", host: "domain.org" }]);
    expect(envelopeOf("From: user@domain.org (Real Name)").from).toEqual([{ name: "Real Name", adl: null, mailbox: "user", host: "domain.org" }]);
    expect(envelopeOf('From: "Ana (not a comment) <x>" <ana (c) @example.org>').from).toEqual([{ name: "Ana (not a comment) <x>", adl: null, mailbox: "ana", host: "example.org" }]);
  });
});
