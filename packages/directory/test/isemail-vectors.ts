// The isemail address vectors as a table of our own (no file copied), shared by the
// parser's unit tests and the SMTP/HTTP integration tests of services/submission.

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
export type Category = "valid" | "rfc5321" | "cfws" | "deprecated" | "rfc5322" | "error";

export const a64 = "a".repeat(64);
const label63 = "b".repeat(63);
/** 64 + 1 + 189 = 254 octets: the longest mailbox (a 256-octet path with its brackets). */
export const longest = `${a64}@${label63}.${label63}.${"c".repeat(61)}`;
export const tooLong = `${a64}@${label63}.${label63}.${"c".repeat(62)}`;
const longDomain = `${label63}.${label63}.${label63}.${"d".repeat(63)}`; // 255 octets
const v6 = (s: string) => `test@[IPv6:${s}]`;

export const vectors: [string, Category][] = [
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


/** An RFC 5321 Mailbox (an envelope address). */
export const mailboxValid = (c: Category) => c === "valid" || c === "rfc5321";
/** An RFC 5322 mailbox a header field (HTTP) may write, CFWS at the edges included. */
export const headerValid = (c: Category) => mailboxValid(c) || c === "cfws";
