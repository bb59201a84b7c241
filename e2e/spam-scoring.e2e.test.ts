import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GTUBE, rspamdTest, startRspamd, type PrivateRspamd } from "@correo/testkit";
import { folderOf, sendToMx, storedMessage } from "./mx-transaction.js";
import { startCorreo, type Correo } from "./harness.js";

/**
 * Issue 14 item 4 through the real MX of a whole Correo: a real rspamd (Debian's, a
 * private instance) scores each message at the end of DATA; its action decides the
 * reply and the folder. rspamd's test rule reads `X-Correo-Test-Score` so that each
 * action can be asked for; GTUBE is rspamd's own reject pattern.
 */
let correo: Correo;
let rspamd: PrivateRspamd;

beforeAll(async () => {
  rspamd = await startRspamd();
  correo = await startCorreo("e2e-spam", { RSPAMD_URL: rspamd.url, RSPAMD_TIMEOUT: "5s", VERIFY_INBOUND: "off" });
  await correo.cli(["domain", "add", "hosted.test"]);
  await correo.cli(["account", "add", "bob@hosted.test", "--password", "long enough pass"]);
}, 120_000);

afterAll(async () => {
  await correo?.stop();
  await rspamd?.stop();
});

function message(subject: string, o: { score?: number; body?: string; extra?: string[] } = {}): Buffer {
  return Buffer.from(
    [
      "From: Alice <alice@sender.test>",
      "To: bob@hosted.test",
      `Subject: ${subject}`,
      "Date: Wed, 02 Dec 2026 12:00:00 +0000",
      `Message-ID: <${crypto.randomUUID()}@sender.test>`,
      ...(o.score === undefined ? [] : [`${rspamdTest.score}: ${o.score}`]),
      ...(o.extra ?? []),
      "",
      o.body ?? "Hello Bob.",
      "",
    ].join("\r\n"),
  );
}

const send = (raw: Buffer) => sendToMx(correo, raw, { from: "alice@sender.test" });
const header = (raw: string, name: string) =>
  raw.split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ").split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));

describe("spam scoring with rspamd at the MX", () => {
  it("refuses GTUBE with 550 5.7.1 at the end of DATA and stores nothing", async () => {
    const before = await correo.infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM messages");
    const sent = await send(message("Test", { body: GTUBE }));
    expect(sent).toMatchObject({ ok: false, code: 550, response: expect.stringMatching(/^550 5\.7\.1 /) });
    const after = await correo.infra.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM messages");
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("defers a greylist verdict with 451 4.7.1", async () => {
    const sent = await send(message("Maybe", { score: rspamdTest.thresholds.greylist + 0.5 }));
    expect(sent).toMatchObject({ ok: false, code: 451, response: expect.stringMatching(/^451 4\.7\.1 /) });
  });

  it("files an add-header verdict in Junk with X-Spam-Flag: YES, and a forged X-Spam-Flag from outside is gone", async () => {
    const clean = await send(message("Hello", { extra: ["X-Spam-Flag: NO"] }));
    expect(clean.ok).toBe(true);
    const cleanRaw = (await storedMessage(correo, (clean as { id: string }).id)).raw;
    expect(header(cleanRaw, "X-Spam-Flag")).toEqual([]);
    expect(header(cleanRaw, "X-Spam-Action")).toEqual(["X-Spam-Action: no action"]);
    expect(await folderOf(correo, (clean as { id: string }).id, "bob@hosted.test")).toMatchObject({ name: "INBOX" });

    const sent = await send(message("Cheap pills", { score: rspamdTest.thresholds.addHeader + 0.5, extra: ["X-Spam-Flag: NO"] }));
    expect(sent.ok).toBe(true);
    const id = (sent as { id: string }).id;
    const stored = await storedMessage(correo, id);
    expect(stored.quarantine).toBe(true);
    expect(header(stored.raw, "X-Spam-Flag")).toEqual(["X-Spam-Flag: YES"]);
    expect(header(stored.raw, "X-Spam-Action")).toEqual(["X-Spam-Action: add header"]);
    expect(stored.detail).toMatch(/^accepted via smtp; spam=add header \(score 6\.5\d*\)$/);
    expect(await folderOf(correo, id, "bob@hosted.test")).toEqual({ name: "Junk", special_use: "\\Junk" });
  });

  it("rewrites the Subject on a rewrite-subject verdict, in the message and in the stored subject, and files it in Junk", async () => {
    const sent = await send(message("Great offer", { score: rspamdTest.thresholds.rewriteSubject + 0.5 }));
    expect(sent.ok).toBe(true);
    const id = (sent as { id: string }).id;
    const stored = await storedMessage(correo, id);
    expect(header(stored.raw, "Subject")).toEqual([`Subject: ${rspamdTest.subjectPrefix} Great offer`]);
    const { rows } = await correo.infra.pool.query<{ subject: string }>("SELECT subject FROM messages WHERE id = $1", [id]);
    expect(rows[0]!.subject).toBe(`${rspamdTest.subjectPrefix} Great offer`);
    expect(await folderOf(correo, id, "bob@hosted.test")).toMatchObject({ name: "Junk" });
  });
});
