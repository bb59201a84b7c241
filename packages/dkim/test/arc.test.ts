import { describe, expect, it } from "vitest";
import { authenticate } from "mailauth";
import { dkimTxtRecord, generateDkimKey, ourAuthenticationResults, sealForwarded } from "../src/index.js";

/** RFC 8617 sealing of forwarded mail, checked by mailauth's own verifier against the published keys. */
const ours = generateDkimKey();
const theirs = generateDkimKey();
const records = new Map([
  [dkimTxtRecord("fwd.example", "correo", ours.publicKey).name, dkimTxtRecord("fwd.example", "correo", ours.publicKey).value],
  [dkimTxtRecord("second.example", "s1", theirs.publicKey).name, dkimTxtRecord("second.example", "s1", theirs.publicKey).value],
]);
const resolver = async (name: string, type: string) => {
  const txt = records.get(name);
  if (type === "TXT" && txt) return [[txt]];
  throw Object.assign(new Error(`no ${type} for ${name}`), { code: "ENOTFOUND" });
};
const key = { domain: "fwd.example", selector: "correo", privateKey: ours.privateKey };
const at = new Date("2026-12-02T10:00:00Z");

const message = Buffer.from(
  "Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=other.example\r\n" +
    "Authentication-Results: mx.fwd.example;\r\n spf=pass smtp.mailfrom=eva@origin.example;\r\n dkim=pass header.d=origin.example\r\n" +
    "From: Eva <eva@origin.example>\r\nTo: fwd@fwd.example\r\nSubject: reenviado\r\nDate: Wed, 02 Dec 2026 09:00:00 +0000\r\n" +
    "Message-ID: <1@origin.example>\r\n\r\nHola.\r\n",
);

async function arcOf(raw: Buffer) {
  const result = await authenticate(raw, { resolver, ip: "127.0.0.1", helo: "mx.fwd.example", sender: "x@fwd.example", mta: "final.example" } as Parameters<typeof authenticate>[1]);
  return result.arc as { status: { result: string }; i: number; authenticationResults?: { mta?: string } };
}

describe("ARC sealing (RFC 8617)", () => {
  it("repeats the top Authentication-Results with our authserv-id, unfolded, and none other", () => {
    expect(ourAuthenticationResults(message, "MX.fwd.example")).toBe("mx.fwd.example; spf=pass smtp.mailfrom=eva@origin.example; dkim=pass header.d=origin.example");
    expect(ourAuthenticationResults(message, "fwd.example")).toBeUndefined();
  });

  it("adds an ARC set, i=1 cv=none, that mailauth verifies with the published key", async () => {
    const out = await sealForwarded(message, key, { authservId: "mx.fwd.example", resolver, signTime: at });
    if (!out.sealed) throw new Error(out.reason);
    expect(out).toMatchObject({ instance: 1, cv: "none" });
    const text = out.raw.toString().replace(/\r\n[ \t]+/g, " "); // unfolded
    expect(text).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none; d=fwd\.example; s=correo;/);
    expect(text).toContain("ARC-Authentication-Results: i=1; mx.fwd.example; spf=pass smtp.mailfrom=eva@origin.example; dkim=pass header.d=origin.example\r\n");
    expect(text).toMatch(/\r\nARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed\/relaxed; d=fwd\.example;/);
    const verdict = await arcOf(out.raw);
    expect(verdict.status.result).toBe("pass");
    expect(verdict.i).toBe(1);
  });

  it("seals on top of a valid chain with the next instance and cv=pass", async () => {
    const first = await sealForwarded(message, { domain: "second.example", selector: "s1", privateKey: theirs.privateKey }, { authservId: "mx.other.example", resolver, signTime: at });
    if (!first.sealed) throw new Error(first.reason);
    const second = await sealForwarded(first.raw, key, { authservId: "mx.fwd.example", resolver, signTime: at });
    expect(second).toMatchObject({ sealed: true, instance: 2, cv: "pass" });
    if (second.sealed) expect((await arcOf(second.raw)).status.result).toBe("pass");
  });

  it("writes 'none' results when the message has no Authentication-Results of ours", async () => {
    const out = await sealForwarded(Buffer.from("From: a@origin.example\r\nSubject: x\r\n\r\nx\r\n"), key, { authservId: "mx.fwd.example", resolver, signTime: at });
    if (!out.sealed) throw new Error(out.reason);
    expect(out.raw.toString().replace(/\r\n[ \t]+/g, " ")).toContain("ARC-Authentication-Results: i=1; mx.fwd.example; none\r\n");
  });

  it("a body changed after the seal fails verification", async () => {
    const out = await sealForwarded(message, key, { authservId: "mx.fwd.example", resolver, signTime: at });
    if (!out.sealed) throw new Error(out.reason);
    expect((await arcOf(Buffer.from(out.raw.toString().replace("Hola.", "Adiós.")))).status.result).toBe("fail");
  });

  it("does not seal again a chain whose last seal already failed", async () => {
    const first = await sealForwarded(message, key, { authservId: "mx.fwd.example", resolver, signTime: at });
    if (!first.sealed) throw new Error(first.reason);
    const broken = Buffer.from(first.raw.toString().replace(/cv=none/, "cv=fail"));
    const out = await sealForwarded(broken, key, { authservId: "mx.fwd.example", resolver, signTime: at });
    expect(out).toMatchObject({ sealed: false, reason: expect.stringMatching(/chain already in the message fails/) });
  });
});
