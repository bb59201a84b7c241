import { dkimSign } from "mailauth/lib/dkim/sign";

export interface SigningKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/**
 * RFC 6376 signature with mailauth (relaxed/relaxed, rsa-sha256); returns the message
 * with its DKIM-Signature header prepended. `signTime` is injected (the relay's clock).
 */
export async function signMessage(raw: Buffer, key: SigningKey, signTime: Date): Promise<Buffer> {
  // mailauth 4.13's typings describe a single signer; the code reads `signatureData`.
  const options = {
    canonicalization: "relaxed/relaxed",
    algorithm: "rsa-sha256",
    signTime,
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  } as unknown as Parameters<typeof dkimSign>[1];
  const result = await dkimSign(raw, options);
  const errors = (result as { errors?: unknown[] }).errors ?? [];
  if (errors.length > 0) throw new Error(`DKIM signing for ${key.domain} failed: ${String(errors[0])}`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

/** The domain of the first address in the From header, which DKIM's d= should match (DMARC alignment). */
export function fromDomain(raw: Buffer): string | undefined {
  const end = raw.indexOf("\r\n\r\n");
  const header = raw.subarray(0, end < 0 ? Math.min(raw.length, 65536) : end).toString("utf8").replace(/\r?\n[ \t]+/g, " ");
  const field = /^from:(.*)$/im.exec(header)?.[1];
  if (!field) return undefined;
  // Display names may hold anything, even "<x@y>": drop quoted strings and comments first.
  const from = field.replace(/"(?:[^"\\]|\\.)*"/g, "").replace(/\((?:[^()\\]|\\.)*\)/g, "");
  const m = /<[^<>@\s]+@([^<>\s]+)>/.exec(from) ?? /[^\s<>,;:"]+@([A-Za-z0-9.-]+)/.exec(from);
  return m?.[1]?.toLowerCase();
}
