/**
 * RFC 3516 BINARY on the wire: FETCH BINARY[part]<partial>, BINARY.PEEK and BINARY.SIZE
 * with the content-transfer encoding removed, literal8 in APPEND and in answers, and
 * NO [UNKNOWN-CTE]. Raw IMAP lines (latin1, so NULs are octets) against a real listener
 * on a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "bin@imap.test";

let infra: IsolatedInfra;
let listener: ImapListener;
let wire: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(wire, line);

const lit = (text: string) => `{${text.length}+}\r\n${text}`;
const lit8 = (text: string) => `~{${text.length}+}\r\n${text}`;

const MIXED = [
  "From: a@example.org",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "Content-Transfer-Encoding: base64",
  "",
  "aGVs",
  "bG8gd29y",
  "bGQ=",
  "--b",
  "Content-Type: text/plain",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "caf=E9 =",
  "au lait  ",
  "--b",
  "Content-Type: application/octet-stream",
  "Content-Transfer-Encoding: base64",
  "",
  "AC3kCg0KCg==",
  "--b",
  "Content-Type: text/plain",
  "Content-Transfer-Encoding: x-uuencode",
  "",
  "begin 644 x",
  "--b--",
  "",
].join("\r\n");

beforeAll(async () => {
  imap = await loggedInImap("imapbinary", USER, PASSWORD);
  ({ infra, listener, wire: wire } = imap);
  expect(await run(`A APPEND INBOX ${lit(MIXED)}`)).toContain("A OK");
  expect(await run("S SELECT INBOX")).toContain("S OK");
});

afterAll(() => imap?.close());

describe("BINARY (RFC 3516)", () => {
  it("is advertised once authenticated", async () => {
    expect(await run("c CAPABILITY")).toMatch(/\* CAPABILITY [^\r]* BINARY[ \r]/);
  });

  it("decodes base64 and quoted-printable parts (§4.3), as literals when they hold no NUL", async () => {
    const out = await run("f1 FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2])");
    expect(out).toContain("* 1 FETCH (BINARY[1] {11}\r\nhello world BINARY[2] {12}\r\ncaf\xe9 au lait)");
  });

  it("answers content with NULs as a literal8, octet for octet", async () => {
    expect(await run("f2 FETCH 1 (BINARY.PEEK[3])")).toContain("* 1 FETCH (BINARY[3] ~{7}\r\n\x00-\xe4\n\r\n\n)");
  });

  it("gives BINARY.SIZE as the decoded size, and BINARY[]<partial> of the decoded octets", async () => {
    expect(await run("f3 FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[3])")).toContain("* 1 FETCH (BINARY.SIZE[1] 11 BINARY.SIZE[3] 7)");
    expect(await run("f4 FETCH 1 (BINARY.PEEK[1]<6.100> BINARY.PEEK[3]<1.2>)")).toContain("* 1 FETCH (BINARY[1]<6> {5}\r\nworld BINARY[3]<1> {2}\r\n-\xe4)");
  });

  it("returns BINARY[] as the whole stored message", async () => {
    expect(await run("f5 FETCH 1 (BINARY.SIZE[] RFC822.SIZE)")).toContain(`* 1 FETCH (BINARY.SIZE[] ${MIXED.length} RFC822.SIZE ${MIXED.length})`);
  });

  it("refuses a part in an encoding it cannot decode with NO [UNKNOWN-CTE]", async () => {
    expect(await run("f6 FETCH 1 (BINARY.PEEK[4])")).toMatch(/f6 NO \[UNKNOWN-CTE\] [^\r]*x-uuencode/);
  });

  it("refuses section texts and a partial BINARY.SIZE with BAD", async () => {
    expect(await run("f7 FETCH 1 (BINARY.PEEK[1.HEADER])")).toMatch(/f7 BAD [^\r]*part numbers/);
    expect(await run("f8 FETCH 1 (BINARY.SIZE[1]<0.3>)")).toMatch(/f8 BAD [^\r]*partial/);
  });

  it("sets \\Seen with BINARY, not with BINARY.PEEK or BINARY.SIZE", async () => {
    await run("p FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])");
    expect(await run("p2 FETCH 1 (FLAGS)")).not.toContain("\\Seen");
    expect(await run("p3 FETCH 1 (BINARY[1])")).toMatch(/FLAGS \([^)]*\\Seen/);
  });

  it("stores a literal8 APPEND's binary part base64-encoded: BODY[1] is 8-bit clean text, BINARY[1] the octets appended (§4.2)", async () => {
    const msg = "From: a@example.org\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\n\r\n\n";
    expect(await run(`a8 APPEND INBOX ${lit8(msg)}`)).toContain("a8 OK");
    const body = await run("b1 FETCH 2 (BODY.PEEK[1] BODY.PEEK[HEADER.FIELDS (CONTENT-TRANSFER-ENCODING)])");
    expect(body).toContain("BODY[1] {14}\r\nAC3kCg0KCg==\r\n");
    expect(body).toContain("Content-Transfer-Encoding: base64\r\n\r\n");
    expect(await run("b2 FETCH 2 (BINARY.SIZE[1] BINARY.PEEK[1])")).toContain("* 2 FETCH (BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n\x00-\xe4\n\r\n\n)");
  });
});
