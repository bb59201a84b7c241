import { generateKeyPairSync } from "node:crypto";

/** A DKIM key pair (RFC 6376 §3.3.3: RSA, at least 1024 bits; 2048 is today's norm). */
export interface DkimKeyPair {
  /** PEM, PKCS#8. */
  privateKey: string;
  /** base64 DER SubjectPublicKeyInfo: the p= of the TXT record. */
  publicKey: string;
}

export function generateDkimKey(bits = 2048): DkimKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: bits,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "der" },
  });
  return { privateKey, publicKey: publicKey.toString("base64") };
}

export interface DkimTxtRecord {
  /** Owner name, RFC 6376 §3.6.2.1: <selector>._domainkey.<domain>. */
  name: string;
  /** The record's text, as one string. */
  value: string;
  /** The record as a zone-file line; strings split at 255 octets (RFC 1035 §3.3.14). */
  zoneLine: string;
}

export function dkimTxtRecord(domain: string, selector: string, publicKey: string): DkimTxtRecord {
  const name = `${selector}._domainkey.${domain}`;
  const value = `v=DKIM1; k=rsa; p=${publicKey}`;
  const chunks = value.match(/.{1,255}/g) ?? [value];
  return { name, value, zoneLine: `${name}. IN TXT ( ${chunks.map((c) => `"${c}"`).join(" ")} )` };
}
