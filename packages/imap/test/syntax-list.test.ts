import { describe, expect, it } from "vitest";
import { parseList } from "../src/syntax/list.js";
import { argsOf, refusalOf } from "./command-line.js";

const LIST = { command: "LIST", rev2: false } as const;
const LSUB = { command: "LSUB", rev2: false } as const;
const plain = { subscribedOnly: false, specialUseOnly: false, recursive: false, returnSubscribed: false, returnSpecialUse: true };

describe("LIST and LSUB arguments (RFC 3501 §6.3.8, §6.3.9, RFC 5258, RFC 5819, RFC 6154)", () => {
  it.each([
    // RFC 3501 §6.3.8's examples.
    ['a LIST "" ""', LIST, { ...plain, reference: "", patterns: [""] }],
    ["a LIST /usr/staff/jones \"\"", LIST, { ...plain, reference: "/usr/staff/jones", patterns: [""] }],
    ['a LIST ~/Mail/ %', LIST, { ...plain, reference: "~/Mail/", patterns: ["%"] }],
    ['a LSUB "#news." "comp.mail.*"', LSUB, { ...plain, subscribedOnly: true, reference: "#news.", patterns: ["comp.mail.*"] }],
    // RFC 5258 §5's examples.
    ['a LIST (SUBSCRIBED) "" "*"', LIST, { ...plain, subscribedOnly: true, returnSubscribed: true, reference: "", patterns: ["*"] }],
    ['a LIST (SUBSCRIBED RECURSIVEMATCH) "" %', LIST, { ...plain, subscribedOnly: true, recursive: true, returnSubscribed: true, reference: "", patterns: ["%"] }],
    ['a LIST (REMOTE) "" % RETURN (CHILDREN SUBSCRIBED)', LIST, { ...plain, returnSubscribed: true, reference: "", patterns: ["%"] }],
    ['a LIST "" ("INBOX" "Drafts" Sent/%)', LIST, { ...plain, reference: "", patterns: ["INBOX", "Drafts", "Sent/%"] }],
    // RFC 6154 §5.2, RFC 5819 §2.
    ['a LIST (SPECIAL-USE) "" *', LIST, { ...plain, specialUseOnly: true, reference: "", patterns: ["*"] }],
    ['a LIST "" % RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))', LIST, { ...plain, reference: "", patterns: ["%"], statusItems: ["MESSAGES", "UNSEEN"] }],
  ])("%s reads as the request", (line, opts, request) => {
    expect(parseList(argsOf(line), opts)).toEqual(request);
  });

  it.each([
    ['a LIST (FROB) "" *', LIST, "unknown LIST selection option FROB"],
    ['a LIST ("SUBSCRIBED") "" *', LIST, "expected an option name"],
    ['a LIST (RECURSIVEMATCH) "" *', LIST, "RECURSIVEMATCH needs another selection option, such as SUBSCRIBED"],
    ['a LIST (REMOTE RECURSIVEMATCH) "" *', LIST, "RECURSIVEMATCH needs another selection option, such as SUBSCRIBED"],
    ["a LIST", LIST, "the reference name is missing or not a string"],
    ['a LIST ""', LIST, "LIST takes a reference and a mailbox pattern"],
    ['a LSUB ""', LSUB, "LSUB takes a reference and a mailbox pattern"],
    // LSUB has no selection options: a list is its reference, which must be a string.
    ['a LSUB (SUBSCRIBED) "" *', LSUB, "the reference name is missing or not a string"],
    ['a LIST "" ((x))', LIST, "a pattern is missing or not a string"],
    ['a LIST "" * RETURN', LIST, "expected RETURN (options)"],
    ['a LIST "" * FROB (x)', LIST, "expected RETURN (options)"],
    ['a LSUB "" * RETURN (CHILDREN)', LSUB, "expected RETURN (options)"],
    ['a LIST "" * RETURN (FROB)', LIST, "unknown LIST return option FROB"],
    ['a LIST "" * RETURN (STATUS MESSAGES)', LIST, "expected a list of status items"],
    ['a LIST "" * RETURN (STATUS (RECENT))', { command: "LIST", rev2: true } as const, "IMAP4rev2 has no RECENT status item (RFC 9051 removed \\Recent)"],
  ])("%s is BAD: %s", (line, opts, text) => {
    expect(refusalOf(() => parseList(argsOf(line), opts))).toEqual({ status: "BAD", text });
  });
});
