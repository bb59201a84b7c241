/** RFC 8970 PREVIEW on the wire, on a real PostgreSQL: the preview of stored MIME messages. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IsolatedInfra } from "@correo/testkit";
import type { ImapListener } from "../src/imap/listener.js";
import { LineWire } from "./line-wire.js";
import { loggedInImap, runOn, type LoggedInImap } from "./imap-login.js";

const PASSWORD = "correct horse battery";
const USER = "previewed@imap.test";
let infra: IsolatedInfra;
let listener: ImapListener;
let w: LineWire;
let imap: LoggedInImap;

const run = (line: string) => runOn(w, line);

beforeAll(async () => {
  imap = await loggedInImap("imappreview", USER, PASSWORD);
  ({ infra, listener, wire: w } = imap);
});

afterAll(() => imap?.close());

async function append(raw: string): Promise<void> {
  expect(await run(`A APPEND INBOX {${raw.length}+}\r\n${raw}`)).toMatch(/^A OK/m);
}

describe("PREVIEW (RFC 8970)", () => {
  it("is advertised; FETCH PREVIEW and PREVIEW (LAZY) give the decoded text of the first text part, one line, at most 256 characters", async () => {
    expect(await run("C CAPABILITY")).toMatch(/^\* CAPABILITY [^\r]* PREVIEW /m);
    await append(
      [
        "Subject: lunch",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="b"',
        "",
        "--b",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>ignored html</p>",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Caf=C3=A9 at noon?=",
        "",
        "See you there.",
        "--b--",
        "",
      ].join("\r\n"),
    );
    await append(`Subject: html only\r\nContent-Type: text/html\r\n\r\n<div>Hello <b>you</b> &amp; ${"word ".repeat(100)}</div>\r\n`);
    await append("Subject: picture\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n");
    expect(await run("S SELECT INBOX")).toMatch(/^S OK/m);
    // 8-bit text goes in a literal (UTF-8 octets; the wire is read as latin1 here) unless UTF8=ACCEPT is on.
    expect(await run("F FETCH 1 (PREVIEW)")).toMatch(/^\* 1 FETCH \(PREVIEW \{29\}\r\nCaf\u00c3\u00a9 at noon\? See you there\.\)\r\n/m);
    const html = await run("F FETCH 2 (UID PREVIEW (LAZY))");
    const text = /PREVIEW "([^"]*)"/.exec(html)?.[1] ?? "";
    expect(text.startsWith("Hello you & word word")).toBe(true);
    expect(text.length).toBeLessThanOrEqual(256);
    expect(await run("F FETCH 3 PREVIEW")).toMatch(/^\* 3 FETCH \(PREVIEW ""\)\r\n/m);
    expect(await run("F FETCH 1 (PREVIEW (EAGER))")).toMatch(/^F BAD PREVIEW takes \(LAZY\) as its only modifier/m);
  });
});
