import { describe, expect, it } from "vitest";
import { SMTPStream } from "smtp-server/lib/smtp-stream";

/**
 * RFC 5321 §4.5.2 transparency, as smtp-server's DATA parser (patched in
 * patches/smtp-server@3.21.6.patch) applies it: a line that starts with a dot loses that
 * dot, whatever follows it, and only <CR><LF>.<CR><LF> ends the data. Every way the
 * bytes can be split across TCP segments gives the same message.
 */
async function unstuff(wire: Buffer, cut: number[]): Promise<{ data: Buffer; after: string }> {
  const stream = new SMTPStream();
  let after = "";
  const quit = new Promise<void>((resolve) => {
    stream.oncommand = (line: Buffer) => {
      after += line.toString("latin1");
      resolve();
    };
  });
  const out = stream.startDataMode();
  const parts: Buffer[] = [];
  out.on("data", (c: Buffer) => parts.push(c));
  const ended = new Promise<void>((resolve) => out.once("end", () => resolve()));
  let from = 0;
  // One write per TCP segment; the parser holds what follows the data until continue().
  for (const at of [...cut, wire.length]) {
    stream.write(wire.subarray(from, at));
    from = at;
  }
  await ended;
  stream.continue();
  await quit;
  return { data: Buffer.concat(parts), after };
}

const cases: [string, string, string][] = [
  // [name, as sent (dot-stuffed by the client or not), as stored]
  ["a dot before other text is deleted", "Subject: t\r\n\r\n.x\r\n", "Subject: t\r\n\r\nx\r\n"],
  ["two dots become one", "Subject: t\r\n\r\n..\r\n", "Subject: t\r\n\r\n.\r\n"],
  ["three dots become two", "Subject: t\r\n\r\n...y\r\n", "Subject: t\r\n\r\n..y\r\n"],
  ["a dot on the first line of DATA", ".x: y\r\n\r\nbody\r\n", "x: y\r\n\r\nbody\r\n"],
  ["two dots on the first line of DATA", "..\r\n", ".\r\n"],
  ["dots inside a line stay", "Subject: t\r\n\r\na.b ..c\r\n", "Subject: t\r\n\r\na.b ..c\r\n"],
  ["consecutive dot lines", "S: t\r\n\r\n.a\r\n.b\r\n..\r\n.\tc\r\n", "S: t\r\n\r\na\r\nb\r\n.\r\n\tc\r\n"],
];

describe("DATA dot-unstuffing (RFC 5321 §4.5.2)", () => {
  for (const [name, body, stored] of cases) {
    it(`${name}, however the bytes are split`, async () => {
      const wire = Buffer.from(`${body}.\r\nQUIT\r\n`, "latin1");
      for (let a = 0; a <= wire.length; a++) {
        const cuts = [[], [a], [a, Math.min(wire.length, a + 1)], [a, Math.min(wire.length, a + 2)]];
        for (const cut of cuts) {
          const { data, after } = await unstuff(wire, cut);
          expect({ cut, data: data.toString("latin1") }).toEqual({ cut, data: stored });
          expect(after).toBe("QUIT");
        }
      }
    });
  }

  it("ends the data only at <CR><LF>.<CR><LF>: the lone dot of the first line is the end", async () => {
    const { data, after } = await unstuff(Buffer.from(".\r\nQUIT\r\n"), []);
    expect(data.length).toBe(0);
    expect(after).toBe("QUIT");
  });
});
