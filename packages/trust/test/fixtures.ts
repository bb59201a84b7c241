import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth/lib/dkim/sign";
import { authenticate } from "mailauth";
import { sealMessage } from "mailauth/lib/arc";
import type { ZoneSpec } from "../../mx/test/dnsmasq.js";

/**
 * Sender domains for the trust tests, published by a real DNS server (dnsmasq):
 * SPF, DKIM keys made here, DMARC records of each policy, PTR/A of the senders' hosts.
 */
export interface Key {
  domain: string;
  selector: string;
  privateKey: string;
  record: string;
}

export function makeKey(domain: string, selector = "s1"): Key {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { domain, selector, privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), record: `v=DKIM1; k=rsa; p=${p}` };
}

/** The sending host of every domain: 127.0.0.10 (mail.sender.test, forward-confirmed). */
export const SENDER_IP = "127.0.0.10";
/** A host that no domain's SPF lists, with a PTR that does not resolve back (iprev fail). */
export const SPOOFER_IP = "127.0.0.66";
/** The forwarder of the ARC tests. */
export const FORWARDER_IP = "127.0.0.20";

export const keys = {
  reject: makeKey("reject.test"),
  quarantine: makeKey("quarantine.test"),
  relaxed: makeKey("relaxed.test"),
  nodmarc: makeKey("nodmarc.test"),
  forwarder: makeKey("forwarder.test", "arc"),
};

const spf = "v=spf1 ip4:127.0.0.10 -all";

export const zone: ZoneSpec = {
  a: { "mail.sender.test": [SENDER_IP], "spoof.elsewhere.test": ["127.0.0.99"], "mx.forwarder.test": [FORWARDER_IP] },
  ptr: { [SENDER_IP]: "mail.sender.test", [SPOOFER_IP]: "spoof.elsewhere.test", [FORWARDER_IP]: "mx.forwarder.test" },
  txt: {
    "reject.test": [spf],
    "_dmarc.reject.test": ["v=DMARC1; p=reject"],
    "quarantine.test": [spf],
    "_dmarc.quarantine.test": ["v=DMARC1; p=quarantine"],
    "relaxed.test": [spf],
    "_dmarc.relaxed.test": ["v=DMARC1; p=none"],
    "nodmarc.test": [spf],
    "mail.sender.test": [spf],
    "forwarder.test": ["v=spf1 ip4:127.0.0.20 -all"],
    ...Object.fromEntries(Object.values(keys).map((k) => [`${k.selector}._domainkey.${k.domain}`, [k.record]])),
  },
  // DMARC and SPF of slow.example are asked of a server that never answers.
  silent: ["slow.example"],
};

export function message(from: string, subject = "Hello", body = "A message.\r\n"): Buffer {
  return Buffer.from(
    `From: <${from}>\r\nTo: <bob@hosted.test>\r\nSubject: ${subject}\r\nDate: Wed, 02 Dec 2026 14:00:00 +0000\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@x>\r\n\r\n${body}`,
  );
}

export async function signed(raw: Buffer, key: Key): Promise<Buffer> {
  const r = await dkimSign(raw, {
    canonicalization: "relaxed/relaxed",
    algorithm: "rsa-sha256",
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  } as never);
  return Buffer.concat([Buffer.from(r.signatures), raw]);
}

/**
 * A mailing list at forwarder.test: it verifies the original (DMARC passes), changes the
 * Subject (the author's DKIM signature breaks) and ARC-seals with its own results.
 */
export async function forwardedWithArc(original: Buffer, mailFrom: string, resolver: (n: string, t: string) => Promise<unknown>): Promise<Buffer> {
  const verified = await authenticate(original, { ip: SENDER_IP, helo: "mail.sender.test", sender: mailFrom, mta: "forwarder.test", resolver, disableBimi: true } as never);
  const authResults = (verified as unknown as { arc: { authResults: string } }).arc.authResults;
  const changed = Buffer.from(original.toString("latin1").replace(/^Subject: (.*)$/m, "Subject: [list] $1"), "latin1");
  const seal = await sealMessage(changed, { signingDomain: "forwarder.test", selector: "arc", privateKey: keys.forwarder.privateKey, authResults, cv: "none" } as never);
  return Buffer.concat([seal, changed]);
}
