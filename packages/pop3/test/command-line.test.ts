import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_COMMAND_OCTETS, parseCommand, type Pop3Command } from "../src/syntax/command-line.js";

const format = (c: Pop3Command) => [c.command, ...c.args].join(" ");

describe("POP3 command parser (RFC 1939 §3, RFC 2449 §4)", () => {
  it("upper-cases the keyword, which is case-insensitive", () => {
    expect(parseCommand("stat")).toEqual({ ok: true, command: { command: "STAT", args: [] } });
    expect(parseCommand("Top 3 10")).toEqual({ ok: true, command: { command: "TOP", args: ["3", "10"] } });
  });

  it("keeps the arguments' case", () => {
    expect(parseCommand("USER Alice@Example.TEST")).toEqual({
      ok: true,
      command: { command: "USER", args: ["Alice@Example.TEST"] },
    });
  });

  it("takes the whole rest of a PASS line as the password, spaces included (RFC 1939 §7)", () => {
    expect(parseCommand("PASS  two  words ")).toEqual({ ok: true, command: { command: "PASS", args: [" two  words "] } });
    expect(parseCommand("PASS")).toEqual({ ok: true, command: { command: "PASS", args: [] } });
  });

  it("tolerates runs of spaces between arguments", () => {
    expect(parseCommand("LIST  2 ")).toEqual({ ok: true, command: { command: "LIST", args: ["2"] } });
  });

  it("accepts 253 octets and refuses 254 (255 with CRLF is the limit)", () => {
    const ok = "NOOP " + "x".repeat(MAX_COMMAND_OCTETS - 5);
    expect(Buffer.byteLength(ok)).toBe(253);
    expect(parseCommand(ok).ok).toBe(true);
    expect(parseCommand(ok + "x")).toEqual({ ok: false, error: "line too long" });
  });

  it("counts the limit in octets, not characters", () => {
    const password = "ñ".repeat(125); // 250 octets in UTF-8, 125 characters
    expect(parseCommand(`PASS ${password}`)).toEqual({ ok: false, error: "line too long" });
  });

  it("refuses empty lines, control characters and keywords that cannot be POP3", () => {
    expect(parseCommand("")).toEqual({ ok: false, error: "empty command" });
    expect(parseCommand("   ")).toEqual({ ok: false, error: "empty command" });
    expect(parseCommand("USER a\x00b")).toEqual({ ok: false, error: "invalid characters in command" });
    expect(parseCommand("RETR\t1")).toEqual({ ok: false, error: "invalid characters in command" });
    expect(parseCommand("CONNECT example.test:443 HTTP/1.1")).toEqual({ ok: false, error: "unknown command" });
    expect(parseCommand("R3TR 1")).toEqual({ ok: false, error: "unknown command" });
    expect(parseCommand("EHLO")).toEqual({ ok: true, command: { command: "EHLO", args: [] } });
    expect(parseCommand("LISTX")).toEqual({ ok: false, error: "unknown command" });
    expect(parseCommand(" STAT")).toEqual({ ok: false, error: "unknown command" });
  });

  it("never throws and always answers a command or an error, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (line) => {
        const r = parseCommand(line);
        if (r.ok) {
          expect(r.command.command).toMatch(/^[A-Z]{3,4}$/);
          expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_COMMAND_OCTETS);
        } else {
          expect(typeof r.error).toBe("string");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips well-formed commands", () => {
    const keyword = fc.stringMatching(/^[A-Za-z]{3,4}$/);
    const arg = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
    fc.assert(
      fc.property(keyword, fc.array(arg, { maxLength: 4 }), (kw, args) => {
        const line = format({ command: kw, args });
        const r = parseCommand(line);
        const command = kw.toUpperCase();
        // PASS keeps its remainder as one argument.
        const expected = command === "PASS" ? (args.length ? [args.join(" ")] : []) : args;
        expect(r).toEqual({ ok: true, command: { command, args: expected } });
      }),
      { numRuns: 2000 },
    );
  });
});

describe("POP3 command lines, as a table (RFC 1939 §3)", () => {
  const table: [string, ReturnType<typeof parseCommand>][] = [
    ["USER alice@example.test", { ok: true, command: { command: "USER", args: ["alice@example.test"] } }],
    ["pass secret", { ok: true, command: { command: "PASS", args: ["secret"] } }],
    ["PASS ", { ok: true, command: { command: "PASS", args: [""] } }],
    ["STAT", { ok: true, command: { command: "STAT", args: [] } }],
    ["LIST", { ok: true, command: { command: "LIST", args: [] } }],
    ["LIST 1", { ok: true, command: { command: "LIST", args: ["1"] } }],
    ["UIDL 12", { ok: true, command: { command: "UIDL", args: ["12"] } }],
    ["RETR 3", { ok: true, command: { command: "RETR", args: ["3"] } }],
    ["TOP 1 0", { ok: true, command: { command: "TOP", args: ["1", "0"] } }],
    ["DELE 2", { ok: true, command: { command: "DELE", args: ["2"] } }],
    ["NOOP", { ok: true, command: { command: "NOOP", args: [] } }],
    ["RSET", { ok: true, command: { command: "RSET", args: [] } }],
    ["QUIT", { ok: true, command: { command: "QUIT", args: [] } }],
    ["CAPA", { ok: true, command: { command: "CAPA", args: [] } }],
    ["STLS", { ok: true, command: { command: "STLS", args: [] } }],
    ["AUTH PLAIN AGFsaWNlAHNlY3JldA==", { ok: true, command: { command: "AUTH", args: ["PLAIN", "AGFsaWNlAHNlY3JldA=="] } }],
    ["AUTH PLAIN =", { ok: true, command: { command: "AUTH", args: ["PLAIN", "="] } }],
    ["", { ok: false, error: "empty command" }],
    ["   ", { ok: false, error: "empty command" }],
    ["RETR\t1", { ok: false, error: "invalid characters in command" }],
    ["NOOP\x00", { ok: false, error: "invalid characters in command" }],
    ["LI", { ok: false, error: "unknown command" }],
    ["RETRIEVE 1", { ok: false, error: "unknown command" }],
    ["R3TR 1", { ok: false, error: "unknown command" }],
    [" STAT", { ok: false, error: "unknown command" }],
  ];
  it.each(table)("%j → %j", (line, expected) => {
    expect(parseCommand(line)).toEqual(expected);
  });
});
