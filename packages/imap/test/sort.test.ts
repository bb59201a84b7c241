import { describe, expect, it } from "vitest";
import { baseSubject, compareAsciiCasemap, orderedSubjectThreadList, sentTime, sortMessages, threadOrderedSubject, type SortInput } from "../src/sort.js";

describe("base subject (RFC 5256 §2.1)", () => {
  const table: [string, string][] = [
    ["", ""],
    ["a", "a"],
    [" ", ""],
    ["Re: hello", "hello"],
    ["RE:  re: Fwd: hello", "hello"],
    ["Fw: hello", "hello"],
    ["Re [2]: hello", "hello"],
    ["Re[2]: hello", "hello"],
    ["[list] Re: hello", "hello"],
    ["[list] hello", "hello"],
    ["[xyz]", "[xyz]"],
    ["hello (fwd)", "hello"],
    ["hello (FWD) (fwd)  ", "hello"],
    ["hello\t  world", "hello world"],
    ["hello\r\n world", "hello world"],
    ["[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b"],
    ["Re: [FWD: c]", "c"],
    ["re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon"],
    ["[fwd: hello (fwd)]", "hello"],
    ["Ad: Re: x", "Ad: Re: x"],
    ["Rex: hello", "Rex: hello"],
    ["b (a)", "b (a)"],
    ["[fwd:]", ""],
  ];
  it.each(table)("%j -> %j", (input, expected) => {
    expect(baseSubject(input)).toBe(expected);
  });
});

describe("i;ascii-casemap", () => {
  it("folds a-z only and compares octets", () => {
    expect(compareAsciiCasemap("abc", "ABC")).toBe(0);
    expect(compareAsciiCasemap("C", "[")).toBeLessThan(0);
    expect(compareAsciiCasemap("c", "_")).toBeLessThan(0);
    expect(compareAsciiCasemap("é", "z")).toBeGreaterThan(0);
  });
});

describe("sent date", () => {
  const internal = new Date("2008-02-22T00:00:00Z");
  it("is adjusted to UTC; missing or unparsable falls back to INTERNALDATE", () => {
    expect(sentTime("Fri, 22 Feb 2008 02:00:00 +0200", internal)).toBe(Date.parse("2008-02-22T00:00:00Z"));
    expect(sentTime("Fri, 22 Feb 2008 02:00:00 -0800 (PST)", internal)).toBe(Date.parse("2008-02-22T10:00:00Z"));
    expect(sentTime(null, internal)).toBe(internal.getTime());
    expect(sentTime("not a date", internal)).toBe(internal.getTime());
  });
});

describe("sortMessages (RFC 5256 §3)", () => {
  const m = (seq: number, over: Partial<SortInput>): SortInput => ({
    uid: seq * 10,
    seq,
    internalDate: new Date(Date.UTC(2020, 0, 1)),
    size: 100,
    date: null,
    subject: null,
    from: null,
    to: null,
    cc: null,
    ...over,
  });
  const addr = (mailbox: string, host = "example.org") => [{ name: null, adl: null, mailbox, host }];
  const seqs = (xs: SortInput[]) => xs.map((x) => x.seq);

  it("SIZE, REVERSE SIZE; ties in mailbox order also under REVERSE", () => {
    const ms = [m(1, { size: 5 }), m(2, { size: 3 }), m(3, { size: 5 }), m(4, { size: 9 })];
    expect(seqs(sortMessages(ms, [{ key: "SIZE", reverse: false }]))).toEqual([2, 1, 3, 4]);
    expect(seqs(sortMessages(ms, [{ key: "SIZE", reverse: true }]))).toEqual([4, 1, 3, 2]);
  });

  it("SUBJECT by base subject, then a second key", () => {
    const ms = [m(1, { subject: "Re: b", size: 1 }), m(2, { subject: "a" }), m(3, { subject: "B", size: 9 }), m(4, {})];
    expect(seqs(sortMessages(ms, [{ key: "SUBJECT", reverse: false }]))).toEqual([4, 2, 1, 3]);
    expect(seqs(sortMessages(ms, [{ key: "SUBJECT", reverse: false }, { key: "SIZE", reverse: true }]))).toEqual([4, 2, 3, 1]);
  });

  it("FROM/TO/CC compare the first address's mailbox only; no address sorts first", () => {
    const ms = [m(1, { from: addr("user2", "b.org") }), m(2, { from: addr("User2", "a.org") }), m(3, { from: addr("user1") }), m(4, {})];
    expect(seqs(sortMessages(ms, [{ key: "FROM", reverse: false }]))).toEqual([4, 3, 1, 2]);
    const cc = [m(1, { cc: [...addr("zed"), ...addr("aaa")] }), m(2, { cc: addr("bob") })];
    expect(seqs(sortMessages(cc, [{ key: "CC", reverse: false }]))).toEqual([2, 1]);
    const to = [m(1, { to: addr("b") }), m(2, { to: addr("a") })];
    expect(seqs(sortMessages(to, [{ key: "TO", reverse: true }]))).toEqual([1, 2]);
  });

  it("DATE uses the sent date, else INTERNALDATE; ARRIVAL uses INTERNALDATE", () => {
    const ms = [
      m(1, { date: "Fri, 22 Feb 2008 02:00:00 +0200", internalDate: new Date("2008-02-23T00:00:00Z") }),
      m(2, { date: null, internalDate: new Date("2008-02-21T23:00:00Z") }),
      m(3, { date: "Fri, 22 Feb 2008 01:00:00 +0000", internalDate: new Date("2008-02-20T00:00:00Z") }),
    ];
    expect(seqs(sortMessages(ms, [{ key: "DATE", reverse: false }]))).toEqual([2, 1, 3]);
    expect(seqs(sortMessages(ms, [{ key: "ARRIVAL", reverse: false }]))).toEqual([3, 2, 1]);
  });
});

describe("DISPLAYFROM / DISPLAYTO (RFC 5957)", () => {
  const m = (seq: number, from: SortInput["from"], to: SortInput["to"] = null): SortInput => ({
    uid: seq,
    seq,
    internalDate: new Date(0),
    size: 1,
    date: null,
    subject: null,
    from,
    to,
    cc: null,
  });
  it("sorts by the first address's display name, else its addr-spec, else a group's name", () => {
    const ms = [
      m(1, [{ name: "foo bar", adl: null, mailbox: "a", host: "b.c" }]),
      m(2, [{ name: null, adl: null, mailbox: "b", host: "c.d" }]),
      m(3, [{ name: null, adl: null, mailbox: "d", host: null }]),
      m(4, [{ name: "Foo aar", adl: null, mailbox: "z", host: "f.g" }]),
      m(5, null),
    ];
    expect(sortMessages(ms, [{ key: "DISPLAYFROM", reverse: false }]).map((x) => x.seq)).toEqual([5, 2, 3, 4, 1]);
    const ts = [m(1, null, [{ name: null, adl: null, mailbox: "zgroup", host: null }]), m(2, null, [{ name: "Y", adl: null, mailbox: "a", host: "b" }])];
    expect(sortMessages(ts, [{ key: "DISPLAYTO", reverse: false }]).map((x) => x.seq)).toEqual([2, 1]);
  });

  it("sorts a mailbox without a domain (`From: d`) by its local part alone (imaptest sort-display-from)", () => {
    const ms = [
      m(1, [{ name: "foo bar", adl: null, mailbox: "a", host: "b.c" }]),
      m(2, [{ name: null, adl: null, mailbox: "b", host: "c.d" }]),
      m(3, [{ name: null, adl: null, mailbox: "d", host: "" }]),
      m(4, [{ name: "foo aar", adl: null, mailbox: "e", host: "f.g" }]),
      m(5, [{ name: "foo car", adl: null, mailbox: "f", host: "g.h" }]),
      m(6, [{ name: null, adl: null, mailbox: "d", host: "e" }]),
    ];
    expect(sortMessages(ms, [{ key: "DISPLAYFROM", reverse: false }]).map((x) => x.seq)).toEqual([2, 3, 6, 4, 1, 5]);
  });
});

describe("THREAD=ORDEREDSUBJECT (RFC 5256 §4)", () => {
  const m = (seq: number, subject: string | null, date: string | null, internal = "2008-02-22T21:00:00Z"): SortInput => ({
    uid: seq * 10,
    seq,
    internalDate: new Date(internal),
    size: 1,
    date,
    subject,
    from: null,
    to: null,
    cc: null,
  });
  it("groups by base subject, orders each group and the groups by sent date", () => {
    const ms = [
      m(1, "a", "Fri, 22 Feb 2008 22:00:10 +0200"),
      m(2, "Re: b", "Fri, 22 Feb 2008 22:00:09 +0200"),
      m(3, "a", "Fri, 22 Feb 2008 22:00:08 +0200"),
      m(4, "b", "Fri, 22 Feb 2008 22:00:07 +0200"),
      m(5, "[x] A", null, "2008-02-22T20:00:30Z"),
      m(6, "c", null, "2008-02-22T22:00:00Z"),
      m(7, null, null),
      m(8, "", null),
    ];
    const threads = threadOrderedSubject(ms).map((t) => t.map((x) => x.seq));
    expect(threads).toEqual([[4, 2], [3, 1, 5], [7, 8], [6]]);
    expect(orderedSubjectThreadList(threads)).toBe("(4 2)(3 (1)(5))(7 8)(6)");
  });
  it("a thread of one is (n); no threads is empty", () => {
    expect(orderedSubjectThreadList([[1], [2, 3, 4]])).toBe("(1)(2 (3)(4))");
    expect(orderedSubjectThreadList([])).toBe("");
  });
});
