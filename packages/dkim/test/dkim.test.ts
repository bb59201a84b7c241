import { createPublicKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dkimVerify } from "mailauth/lib/dkim/verify";
import { dkimTxtRecord, fromDomain, generateDkimKey, signMessage } from "../src/index.js";

const message = Buffer.from(
  "From: Ana <ana@Hosted.Example>\r\nTo: bob@remote.example\r\nSubject: firmado\r\n" +
    "Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <1@hosted.example>\r\n\r\nHola.\r\n",
);

describe("DKIM keys and signatures (RFC 6376)", () => {
  const key = generateDkimKey();
  const txt = dkimTxtRecord("hosted.example", "correo", key.publicKey);

  it("prints the TXT record a domain publishes, split into 255-octet strings", () => {
    expect(txt.name).toBe("correo._domainkey.hosted.example");
    expect(txt.value).toBe(`v=DKIM1; k=rsa; p=${key.publicKey}`);
    expect(createPublicKey({ key: Buffer.from(key.publicKey, "base64"), format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const strings = [...txt.zoneLine.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(strings.join("")).toBe(txt.value);
    expect(txt.zoneLine.startsWith("correo._domainkey.hosted.example. IN TXT (")).toBe(true);
  });

  it("signs a message that mailauth verifies with the published record, and a changed body fails", async () => {
    const signed = await signMessage(message, { domain: "hosted.example", selector: "correo", privateKey: key.privateKey }, new Date("2026-12-01T09:00:01Z"));
    expect(signed.toString()).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=hosted\.example;/);
    const resolver = async (name: string, type: string) => {
      if (type === "TXT" && name === txt.name) return [[txt.value]];
      throw Object.assign(new Error("no such record"), { code: "ENOTFOUND" });
    };
    const ok = await dkimVerify(signed, { resolver, curTime: new Date("2026-12-01T09:00:05Z") });
    expect(ok.results[0]?.status.result).toBe("pass");
    const tampered = Buffer.from(signed.toString().replace("Hola.", "Adiós."));
    const bad = await dkimVerify(tampered, { resolver, curTime: new Date("2026-12-01T09:00:05Z") });
    expect(bad.results[0]?.status.result).toBe("neutral");
  });

  it("finds the From domain that the signature's d= must align with", () => {
    expect(fromDomain(message)).toBe("hosted.example");
    expect(fromDomain(Buffer.from("From: ana@x.example\r\n\r\n"))).toBe("x.example");
    expect(fromDomain(Buffer.from('From: "Ana, <not@this>" <ana@real.example>\r\n\r\n'))).toBe("real.example");
    expect(fromDomain(Buffer.from("Subject: none\r\n\r\n"))).toBeUndefined();
  });
});
