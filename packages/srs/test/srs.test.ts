import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isSrsAddress, srsForward, srsReverse, timestampOf, type SrsOptions } from "../src/index.js";

const DAY = 86_400_000;
/** The day postsrsd 1.10 (Debian's package, libsrs2's code) wrote the golden addresses below: TT = JV. */
const today = new Date("2026-12-02T14:27:32Z");
const options: SrsOptions = { secrets: ["correo-test-secret"], domain: "fwd.example" };
const days = (n: number) => new Date(today.getTime() + n * DAY);

describe("SRS forward, as postsrsd writes it", () => {
  it.each([
    ["Ana.Perez@Origin.Example", "SRS0=ZRgv=JV=Origin.Example=Ana.Perez@fwd.example"],
    ["user=with=eq@origin.example", "SRS0=Is9D=JV=origin.example=user=with=eq@fwd.example"],
    // Already SRS0 of another forwarder: SRS1 keeps that forwarder and its tail.
    ["SRS0=abcd=AB=orig.example=bob@other.example", "SRS1=mJwO=other.example==abcd=AB=orig.example=bob@fwd.example"],
    // SRS1 of another forwarder: the first forwarder stays, our hash replaces theirs.
    ["SRS1=wxyz=first.example==abcd=AB=orig.example=bob@other.example", "SRS1=BwgX=first.example==abcd=AB=orig.example=bob@fwd.example"],
  ])("rewrites <%s> to <%s>", (sender, rewritten) => {
    expect(srsForward(sender, options, today)).toEqual({ ok: true, address: rewritten });
  });

  it("leaves an address of the SRS domain itself as it is", () => {
    expect(srsForward("ana@FWD.example", options, today)).toEqual({ ok: true, address: "ana@FWD.example" });
  });

  it("signs with the first secret only", () => {
    const rotated = { ...options, secrets: ["new-secret", "correo-test-secret"] };
    expect(srsForward("Ana.Perez@Origin.Example", rotated, today)).not.toEqual(srsForward("Ana.Perez@Origin.Example", options, today));
  });

  it("writes the day number mod 1024 in base32", () => {
    expect(timestampOf(new Date(0))).toBe("AA");
    expect(timestampOf(new Date(1023 * DAY))).toBe("77");
    expect(timestampOf(new Date(1024 * DAY))).toBe("AA");
  });

  it("refuses to rewrite what is not local@domain (the null path included)", () => {
    for (const s of ["", "ana", "@origin.example", "ana@"]) expect(srsForward(s, options, today)).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("needs a secret and a domain", () => {
    expect(() => srsForward("a@b.example", { secrets: [], domain: "fwd.example" }, today)).toThrow(/secret/);
    expect(() => srsForward("a@b.example", { secrets: [""], domain: "fwd.example" }, today)).toThrow(/secret/);
    expect(() => srsForward("a@b.example", { secrets: ["s"], domain: "" }, today)).toThrow(/domain/);
  });
});

describe("SRS reverse", () => {
  it("returns postsrsd's SRS0 address to the original sender, whatever case a relay folded it to", () => {
    const srs0 = "SRS0=ZRgv=JV=Origin.Example=Ana.Perez@fwd.example";
    expect(srsReverse(srs0, options, today)).toEqual({ ok: true, address: "Ana.Perez@Origin.Example" });
    expect(srsReverse(srs0.toLowerCase(), options, today)).toEqual({ ok: true, address: "ana.perez@origin.example" });
    expect(srsReverse(srs0.toUpperCase(), options, today)).toEqual({ ok: true, address: "ANA.PEREZ@ORIGIN.EXAMPLE" });
  });

  it("returns an SRS1 address to the first forwarder's SRS0 address", () => {
    expect(srsReverse("SRS1=mJwO=other.example==abcd=AB=orig.example=bob@fwd.example", options, today)).toEqual({
      ok: true,
      address: "SRS0=abcd=AB=orig.example=bob@other.example",
    });
  });

  it("verifies with every secret, so that a rotated-out secret's addresses still come back", () => {
    const rotated = { ...options, secrets: ["new-secret", "correo-test-secret"] };
    expect(srsReverse("SRS0=ZRgv=JV=Origin.Example=Ana.Perez@fwd.example", rotated, today)).toEqual({ ok: true, address: "Ana.Perez@Origin.Example" });
  });

  it("accepts the age limit itself and refuses a day more (default 21 days)", () => {
    const srs0 = "SRS0=ZRgv=JV=Origin.Example=Ana.Perez@fwd.example";
    expect(srsReverse(srs0, options, days(21))).toMatchObject({ ok: true });
    expect(srsReverse(srs0, options, days(22))).toEqual({
      ok: false,
      reason: "expired",
      detail: "is 22 days old; the limit is 21",
    });
    expect(srsReverse(srs0, { ...options, maxAgeDays: 3 }, days(4))).toMatchObject({ ok: false, reason: "expired" });
  });

  it("counts the age across the 1024-day wrap of the timestamp", () => {
    const beforeWrap = new Date(1023 * DAY);
    const address = srsForward("a@origin.example", options, beforeWrap);
    if (!address.ok) throw new Error(address.detail);
    expect(address.address).toContain("=77=");
    expect(srsReverse(address.address, options, new Date(1025 * DAY))).toEqual({ ok: true, address: "a@origin.example" });
  });

  it.each([
    ["a hash of another secret", "SRS0=ZRgv=JV=Origin.Example=Ana.Perez@fwd.example", { ...options, secrets: ["other"] }, "forged", /none of our secrets/],
    ["a changed original domain", "SRS0=ZRgv=JV=Origin.Exampl=Ana.Perez@fwd.example", options, "forged", /none of our secrets/],
    ["a changed timestamp", "SRS0=ZRgv=JW=Origin.Example=Ana.Perez@fwd.example", options, "forged", /none of our secrets/],
    ["a hash cut short", "SRS0=ZRg=JV=Origin.Example=Ana.Perez@fwd.example", options, "forged", /none of our secrets/],
    ["a forged SRS1", "SRS1=AAAA=other.example==abcd=AB=orig.example=bob@fwd.example", options, "forged", /SRS1 hash that none of our secrets/],
    ["no local part after the domain", "SRS0=ZRgv=JV=Origin.Example@fwd.example", options, "malformed", /is SRS0 but lacks its hash, timestamp, domain or local part/],
    ["an empty hash", "SRS0==JV=Origin.Example=Ana@fwd.example", options, "malformed", /lacks/],
    ["a timestamp of three characters", "SRS0=ZRgv=JVA=Origin.Example=Ana@fwd.example", options, "malformed", /timestamp "JVA", not two base32/],
    ["a timestamp outside base32", "SRS0=ZRgv=J1=Origin.Example=Ana@fwd.example", options, "malformed", /timestamp "J1"/],
    ["an SRS1 without its tail", "SRS1=mJwO=other.example@fwd.example", options, "malformed", /is SRS1 but lacks/],
    ["another domain", "SRS0=ZRgv=JV=Origin.Example=Ana.Perez@other.example", options, "not-srs", /not of the SRS domain fwd\.example/],
    ["no SRS tag", "ana@fwd.example", options, "not-srs", /does not start with SRS0= or SRS1=/],
    ["SRS2", "SRS2=ZRgv=JV=Origin.Example=Ana@fwd.example", options, "not-srs", /does not start/],
    ["no domain", "SRS0=ZRgv=JV=Origin.Example=Ana", options, "malformed", /not local@domain/],
  ])("refuses %s", (_what, address, opts, reason, detail) => {
    const result = srsReverse(address, opts, today);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.detail).toMatch(detail);
  });

  it("tells SRS addresses from others", () => {
    expect(isSrsAddress("SRS0=ZRgv=JV=o.example=a@fwd.example")).toBe(true);
    expect(isSrsAddress("srs1+x=y==z@fwd.example")).toBe(true);
    expect(isSrsAddress("srs0@fwd.example")).toBe(false);
    expect(isSrsAddress("ana@fwd.example")).toBe(false);
  });
});

// Local parts and domains as SMTP carries them (RFC 5321 Dot-string atoms, a domain name).
const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~-]{1,12}$/);
const local = fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join("."));
const domain = fc.array(fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?$/), { minLength: 2, maxLength: 4 }).map((a) => a.join("."));
const instant = fc.integer({ min: 0, max: 4_000_000_000_000 }).map((t) => new Date(t));
const secrets = fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 3 });

describe("SRS round trips (property-based)", () => {
  it("any sender rewritten today comes back unchanged within the age limit", () => {
    fc.assert(
      fc.property(local, domain, instant, fc.integer({ min: 0, max: 21 }), secrets, (l, d, at, age, s) => {
        fc.pre(d.toLowerCase() !== "fwd.example" && !isSrsAddress(`${l}@${d}`));
        const opts = { secrets: s, domain: "fwd.example" };
        const fwd = srsForward(`${l}@${d}`, opts, at);
        expect(fwd.ok).toBe(true);
        if (!fwd.ok) return;
        expect(fwd.address.startsWith("SRS0=")).toBe(true);
        expect(srsReverse(fwd.address, opts, new Date(at.getTime() + age * DAY))).toEqual({ ok: true, address: `${l}@${d}` });
      }),
    );
  });

  it("a rewritten address is refused after the age limit, until the timestamp wraps", () => {
    fc.assert(
      fc.property(local, domain, instant, fc.integer({ min: 22, max: 1000 }), (l, d, at, age) => {
        fc.pre(!isSrsAddress(`${l}@${d}`));
        const fwd = srsForward(`${l}@${d}`, options, at);
        if (!fwd.ok) throw new Error(fwd.detail);
        expect(srsReverse(fwd.address, options, new Date(at.getTime() + age * DAY))).toMatchObject({ ok: false, reason: "expired" });
      }),
    );
  });

  it("an SRS0 of another forwarder comes back as that SRS0 through our SRS1", () => {
    fc.assert(
      fc.property(local, domain, instant, (l, d, at) => {
        const theirs = srsForward(`${l}@${d}`, { secrets: ["theirs"], domain: "first.example" }, at);
        if (!theirs.ok) throw new Error(theirs.detail);
        const ours = srsForward(theirs.address, options, at);
        if (!ours.ok) throw new Error(ours.detail);
        expect(ours.address.startsWith("SRS1=")).toBe(true);
        const back = srsReverse(ours.address, options, at);
        expect(back).toEqual({ ok: true, address: theirs.address });
        if (back.ok) expect(srsReverse(back.address, { secrets: ["theirs"], domain: "first.example" }, at)).toEqual({ ok: true, address: `${l}@${d}` });
      }),
    );
  });

  it("changing any one character of the hash is refused as forged", () => {
    fc.assert(
      fc.property(local, domain, fc.integer({ min: 0, max: 3 }), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"), (l, d, i, c) => {
        fc.pre(!isSrsAddress(`${l}@${d}`) && d.toLowerCase() !== "fwd.example");
        const fwd = srsForward(`${l}@${d}`, options, today);
        if (!fwd.ok) throw new Error(fwd.detail);
        const hash = fwd.address.slice(5, 9);
        fc.pre(hash[i]!.toLowerCase() !== c.toLowerCase());
        const forged = fwd.address.slice(0, 5 + i) + c + fwd.address.slice(6 + i);
        expect(srsReverse(forged, options, today)).toMatchObject({ ok: false, reason: "forged" });
      }),
    );
  });
});
